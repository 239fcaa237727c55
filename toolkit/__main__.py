"""Command line: ``python -m toolkit prefetch | run | site | env | doctor``."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toolkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prefetch", help="download the full-mode data and weights into the standard caches")
    run = sub.add_parser(
        "run",
        help="execute every notebook headless and print a summary table",
        description="Execute the lecture notebooks headless, in order, and print a summary table. "
        "Executing a notebook runs its code with your rights: run only notebooks you trust.",
    )
    run.add_argument("--notebooks", default="notebooks", help="folder of NN_name.ipynb notebooks (default: notebooks)")
    run.add_argument("--out", default="build", help="output folder, not the notebooks folder (default: build)")
    run.add_argument("--full", action="store_true", help="full size instead of fast mode")
    run.add_argument("--only", nargs="+", metavar="LECTURE", help="lecture numbers or names, e.g. 1 05 08_diagnosing_training")
    site = sub.add_parser("site", help="build the course site from the executed notebooks and check its links")
    site.add_argument("--build", default="build", help="the folder `run` wrote (default: build)")
    site.add_argument("--out", default=None, help="the site's folder (default: BUILD/site)")
    site.add_argument("--check-only", action="store_true", help="check the site without rebuilding it")
    site.add_argument("--browser", action="store_true", help="also open every page in headless Chromium and take "
                      "screenshots into BUILD/site-check/")
    sub.add_parser("env", help="describe the environment")
    doctor = sub.add_parser("doctor", help="diagnose training runs from CSVLogger files or JSON dumps of history.history")
    doctor.add_argument("files", nargs="+", metavar="FILE", help="CSVLogger files (e.g. history.csv) or JSON dumps")
    doctor.add_argument("--num-classes", type=int, default=None, help="number of classes, for chance levels")
    args = parser.parse_args(argv)
    if args.command not in ("run", "site", "doctor"):  # the commands that load TensorFlow: without its C++ start-up lines
        from toolkit.quiet import import_tensorflow

        import_tensorflow()

    if args.command == "doctor":
        from toolkit.diagnose.cli import doctor_main

        return doctor_main(args.files, num_classes=args.num_classes)

    if args.command == "prefetch":
        from toolkit.prefetch import prefetch

        return 1 if prefetch() else 0
    if args.command == "site":
        import pathlib

        from toolkit.site import build_site
        from toolkit.site_check import browser_check, check_site

        site_dir = pathlib.Path(args.out or pathlib.Path(args.build) / "site")
        try:
            if not args.check_only:
                build_site(args.build, site_dir)
                print(f"Site: {site_dir / 'index.html'}")
            problems = check_site(site_dir)
            if args.browser:
                shots = pathlib.Path(args.build) / "site-check"
                problems += browser_check(site_dir, shots, screenshots=("index.html", sorted(site_dir.glob("0*.html"))[0].name))
                print(f"Screenshots: {shots}/")
        except (ValueError, FileNotFoundError, IndexError) as exc:
            print(f"python -m toolkit site: {exc}", file=sys.stderr)
            return 2
        print("\n".join(problems) if problems else "Every page, image and link checked: no problem found.")
        return 1 if problems else 0
    if args.command == "run":
        import signal

        from toolkit.course import run_course
        from toolkit.optional import MissingDependencyError

        if not os.path.isdir(args.notebooks):  # e.g. an installed wheel run outside a clone of the course
            print(f"python -m toolkit run: no notebooks folder {args.notebooks!r} here. Run it from a clone of the "
                  "course, or pass --notebooks DIR.", file=sys.stderr)
            return 2
        try:
            rows = run_course(args.notebooks, args.out, full=args.full, only=args.only)
        except (ValueError, MissingDependencyError) as exc:  # a bad folder or --only value, no nbclient: refused before anything runs
            print(f"python -m toolkit run: {exc}", file=sys.stderr)
            return 2
        if rows and rows[-1]["status"] == "interrupted":
            return 128 + signal.Signals[rows[-1].get("signal") or "SIGINT"].value  # 130 for Ctrl-C
        return 1 if any(r["status"] != "ok" for r in rows) else 0
    if args.command == "env":
        from toolkit.environment import describe_environment
        from toolkit.mode import ModeError

        try:
            describe_environment()
        except ModeError as exc:  # a bad TOOLKIT_MODE / TOOLKIT_FAST: one line, no traceback
            print(f"python -m toolkit env: {exc}", file=sys.stderr)
            return 2
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
