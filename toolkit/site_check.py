"""Check the course site: ``make site-check`` / ``python -m toolkit site --check``.

:func:`check_site` reads every HTML page of the site and returns the problems
it finds: a local link or image whose file is missing, a ``#fragment`` that
names no element of its page, an image data URI that does not decode to a
PNG, JPEG, GIF or SVG image, or a Colab link to a notebook that
``notebooks/`` lacks. Links to other web sites are not fetched (the site is
meant to work offline). :func:`browser_check` then opens each page in headless
Chromium (Debian's ``chromium``), checks that it loads with all its images,
and takes screenshots to look at.

Example:
    >>> check_site("build/site")  # doctest: +SKIP
    []
"""

from __future__ import annotations

import base64
import binascii
import html.parser
import pathlib
import shutil
import subprocess
import tempfile
import urllib.parse

MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"<svg", b"<?xml")
COLAB_PREFIX = "https://colab.research.google.com/github/"


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.ids, self.images = [], set(), 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        key = {"a": "href", "img": "src", "script": "src", "link": "href"}.get(tag)
        if key and attrs.get(key):
            self.refs.append((tag, attrs[key]))
            self.images += tag == "img"


def _parse(path: pathlib.Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _data_uri_problem(uri: str) -> str | None:
    head, _, payload = uri.partition(",")
    try:
        data = base64.b64decode(payload, validate=True) if head.endswith(";base64") else urllib.parse.unquote(payload).encode()
    except (binascii.Error, ValueError):
        return "a data URI that is not valid base64"
    return None if data.lstrip().startswith(MAGIC) else "a data URI that is not an image"


def check_site(site_dir, notebooks_dir="notebooks") -> list[str]:
    """Every broken link or image of the site, as ``"page: problem"`` lines (empty when all is well)."""
    site_dir, notebooks_dir = pathlib.Path(site_dir), pathlib.Path(notebooks_dir)
    pages = sorted(site_dir.rglob("*.html"))
    if not (site_dir / "index.html").exists():
        return [f"{site_dir}: no index.html (run `make site` first)"]
    parsed = {p.resolve(): _parse(p) for p in pages}
    problems = []
    for path, page in parsed.items():
        name = path.relative_to(site_dir.resolve())
        for tag, ref in page.refs:
            if ref.startswith("data:"):
                why = _data_uri_problem(ref) if tag == "img" else None
                problems += [f"{name}: <{tag}> holds {why}"] if why else []
                continue
            parts = urllib.parse.urlsplit(ref)
            if parts.scheme in ("http", "https", "mailto"):
                if ref.startswith(COLAB_PREFIX) and not (notebooks_dir / pathlib.PurePosixPath(parts.path).name).exists():
                    problems.append(f"{name}: Colab link to a notebook that notebooks/ lacks: {ref}")
                continue
            target = (path.parent / urllib.parse.unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                problems.append(f"{name}: <{tag}> points to a missing file: {ref}")
            elif parts.fragment and target in parsed and parts.fragment not in parsed[target].ids:
                problems.append(f"{name}: <{tag}> points to a missing anchor: {ref}")
            elif tag == "img" and not target.read_bytes()[:512].lstrip().startswith(MAGIC):
                problems.append(f"{name}: <img> file is not an image: {ref}")
    return problems


PROBE = """<script>addEventListener("load", () => setTimeout(() => {
  const bad = [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80));
  document.title = "SITE-CHECK " + JSON.stringify({images: document.images.length, broken: bad});
}, 200));</script>"""


def browser_check(site_dir, shots_dir, *, chromium: str | None = None, screenshots=("index.html",)) -> list[str]:
    """Open every page in headless Chromium; return the pages that fail to load or show a broken image.

    Each page is copied, with a small probe script added, next to the
    original (so that relative links resolve the same) and opened with
    ``--dump-dom``; the probe writes the number of images and those that
    did not load into the title. Screenshots of ``screenshots`` go to ``shots_dir``.
    """
    import json
    import re

    chromium = chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise FileNotFoundError("no `chromium` on PATH: install it (Debian: apt-get install chromium)")
    site_dir, shots_dir = pathlib.Path(site_dir).resolve(), pathlib.Path(shots_dir)
    shots_dir.mkdir(parents=True, exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
    problems = []
    with tempfile.TemporaryDirectory() as profile:
        run = lambda *args: subprocess.run([chromium, *flags, f"--user-data-dir={profile}", *args],  # noqa: E731
                                           capture_output=True, text=True, timeout=120)
        for page in sorted(site_dir.glob("*.html")):
            probe = page.with_name(f".probe-{page.name}")
            probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
            try:
                dom = run("--virtual-time-budget=15000", "--dump-dom", probe.as_uri()).stdout
            finally:
                probe.unlink()
            found = re.search(r"<title>SITE-CHECK (.*?)</title>", dom)
            if not found:
                problems.append(f"{page.name}: did not load (no probe result in the browser's DOM)")
                continue
            result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
            problems += [f"{page.name}: broken image in the browser: {src}" for src in result["broken"]]
            print(f"  {page.name}: loaded, {result['images']} images, {len(result['broken'])} broken", flush=True)
        for name in screenshots:
            shot = shots_dir / f"{pathlib.Path(name).stem}.png"
            run(f"--screenshot={shot}", "--window-size=1280,2000", (site_dir / name).as_uri())
            problems += [] if shot.exists() else [f"{name}: no screenshot"]
    return problems
