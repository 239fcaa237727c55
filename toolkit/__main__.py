"""Command line: ``python -m toolkit prefetch | run | env | doctor``."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toolkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prefetch", help="download the full-mode data and weights into the standard caches")
    run = sub.add_parser("run", help="execute every notebook headless and print a summary table")
    run.add_argument("--notebooks", default="notebooks", help="folder of notebooks (default: notebooks)")
    run.add_argument("--out", default="build", help="output folder (default: build)")
    run.add_argument("--full", action="store_true", help="full size instead of fast mode")
    run.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 01 05")
    sub.add_parser("env", help="describe the environment")
    doctor = sub.add_parser("doctor", help="diagnose a training run from the file keras.callbacks.CSVLogger wrote")
    doctor.add_argument("csv", help="the CSVLogger file, e.g. history.csv")
    doctor.add_argument("--num-classes", type=int, default=None, help="number of classes, for chance levels")
    args = parser.parse_args(argv)

    if args.command == "doctor":
        from toolkit.diagnose import diagnose, read_history_csv

        try:
            report = diagnose(read_history_csv(args.csv), num_classes=args.num_classes)
        except (TypeError, ValueError) as exc:
            print(f"python -m toolkit doctor: {exc}", file=sys.stderr)
            return 2
        print(report)
        return 0

    if args.command == "prefetch":
        from toolkit.prefetch import prefetch

        return 1 if prefetch() else 0
    if args.command == "run":
        from toolkit.course import run_course

        rows = run_course(args.notebooks, args.out, full=args.full, only=args.only)
        return 1 if any(r["status"] != "ok" for r in rows) else 0
    if args.command == "env":
        from toolkit.runtime import describe_environment

        describe_environment()
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
