"""The course site: ``make site`` / ``python -m toolkit site`` turns ``build/`` into ``build/site/``.

It reads the notebooks that ``make run`` executed (``build/NN_name.ipynb``; a
``.partial`` notebook did not finish and gets no page) and ``summary.json``,
and writes:

* ``index.html``: the lectures in order, each with its goal (the **Goal.**
  paragraph of its first Markdown cell), a thumbnail of its first figure, its
  headline, its run time and status, and links to its page and to Colab;
* one page per lecture, with links to the previous and next lecture, the index
  and Colab above and below it.

Pages are rendered with nbconvert's ``lab`` template, the look of JupyterLab.
nbconvert is already installed with the course, needs nothing downloaded at
build time and renders a notebook exactly as executed; Jupyter Book would add
Sphinx and a dozen packages to build eight pages. The figures stay embedded
in each page (data URIs), and the Colab badge is a local file, so the site
works offline (MathJax, for formulas, still comes from its CDN).

Example:
    >>> build_site("build")  # doctest: +SKIP
    PosixPath('build/site')
"""

from __future__ import annotations

import base64
import html
import pathlib
import re

from toolkit import REPOSITORY
from toolkit.course import read_summary
from toolkit.lectures import PATTERN, write_atomic
from toolkit.validation import received

COLAB = "https://colab.research.google.com/github/{repo}/blob/main/notebooks/{name}.ipynb"
BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20"><rect width="117" height="20" rx="3" fill="#555"/>'
    '<rect x="20" width="97" height="20" rx="3" fill="#F9AB00"/><circle cx="10" cy="10" r="5" fill="none" stroke="#F9AB00"'
    ' stroke-width="3"/><text x="68" y="14" font-family="Verdana,sans-serif" font-size="11" text-anchor="middle"'
    ' fill="#222">Open in Colab</text></svg>'
)
STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
.lecture{display:flex;gap:1.5em;border-top:1px solid #ddd;padding:1em 0}.lecture img.thumb{width:260px;height:auto;
border:1px solid #ccc;align-self:flex-start}.meta{color:#555;font-size:.9em}.failed{color:#b00020}h2{margin:.2em 0}"""


def _text(cell) -> str:
    return "".join(cell.source) if isinstance(cell.source, list) else cell.source


def describe(nb) -> tuple[str, str]:
    """A notebook's title and goal, from its first Markdown cell."""
    first = next((_text(c) for c in nb.cells if c.cell_type == "markdown"), "")
    title = next((ln.lstrip("# ").strip() for ln in first.splitlines() if ln.startswith("# ")), "")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", first) if p.strip() and not p.lstrip().startswith(("#", "[!["))]
    goal = next((p for p in paragraphs if p.startswith("**Goal.**")), paragraphs[0] if paragraphs else "")
    return title, " ".join(re.sub(r"[*`]", "", goal.removeprefix("**Goal.**")).split())


def first_image(nb) -> bytes | None:
    """The PNG bytes of a notebook's first figure."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get("image/png")
            if data:
                return base64.b64decode("".join(data) if isinstance(data, list) else data)
    return None


def _nav(names: list[str], i: int, titles: dict) -> str:
    links = ["[Index](index.html)"]
    if i > 0:
        links.insert(0, f"[← {titles[names[i - 1]]}]({names[i - 1]}.html)")
    if i + 1 < len(names):
        links.append(f"[{titles[names[i + 1]]} →]({names[i + 1]}.html)")
    links.append(f"[Open in Colab]({COLAB.format(repo=REPOSITORY, name=names[i])})")
    return " · ".join(links)


def build_site(build_dir="build", site_dir=None) -> pathlib.Path:
    """Write the site of the executed notebooks of ``build_dir`` into ``site_dir`` (default ``build_dir/site``)."""
    import nbformat
    from nbconvert import HTMLExporter

    build_dir = pathlib.Path(build_dir)
    site_dir = pathlib.Path(site_dir) if site_dir is not None else build_dir / "site"
    paths = [p for p in sorted(build_dir.glob(PATTERN)) if not p.name.endswith(".partial.ipynb")]
    if not paths:
        raise ValueError(
            f"`build_dir` holds no executed notebooks: run `make run` (or `python -m toolkit run --out {build_dir}`) "
            f"first. {received('build_dir', str(build_dir))}"
        )
    (site_dir / "thumbs").mkdir(parents=True, exist_ok=True)
    (site_dir / "colab-badge.svg").write_text(BADGE)
    notebooks = {p.stem: nbformat.read(p, as_version=4) for p in paths}
    names, rows = list(notebooks), {r["notebook"]: r for r in read_summary(build_dir)["notebooks"]}
    info = {name: describe(nb) for name, nb in notebooks.items()}
    titles = {name: info[name][0] or name for name in names}
    exporter = HTMLExporter(template_name="lab")
    cards = []
    for i, name in enumerate(names):
        nb = notebooks[name]
        nav = _nav(names, i, titles)
        nb.cells = [nbformat.v4.new_markdown_cell(nav), *nb.cells, nbformat.v4.new_markdown_cell(nav)]
        page, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": titles[name]}})
        write_atomic(site_dir / f"{name}.html", page.replace(BADGE_URL, "colab-badge.svg"))
        image = first_image(nb)
        if image:
            (site_dir / "thumbs" / f"{name}.png").write_bytes(image)
        cards.append(_card(name, titles[name], info[name][1], rows.get(name, {}), bool(image)))
    unfinished = sorted(set(rows) - set(names))
    for name in unfinished:
        row = rows[name]
        cards.append(f'<div class="lecture"><div><h2>{html.escape(name)}</h2><p class="failed">{html.escape(row["status"])}: '
                     f'{html.escape(row.get("error", ""))}; no page (see {html.escape(row.get("output", ""))})</p></div></div>')
    index = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Training deep networks</title>'
             f'<style>{STYLE}</style></head><body><h1>Training deep networks, and diagnosing what goes wrong</h1>'
             f'<p>The course\'s notebooks as <code>make run</code> executed them. Source: '
             f'<a href="https://github.com/{REPOSITORY}">github.com/{REPOSITORY}</a>.</p>{"".join(cards)}</body></html>')
    write_atomic(site_dir / "index.html", index)
    return site_dir


def _card(name: str, title: str, goal: str, row: dict, has_image: bool) -> str:
    thumb = f'<a href="{name}.html"><img class="thumb" src="thumbs/{name}.png" alt="first figure of {name}"></a>' if has_image else ""
    seconds = f'{row["seconds"]:.0f} s in {row.get("mode", "?")} mode' if "seconds" in row else "time not recorded"
    status = row.get("status", "ok")
    result = html.escape(row.get("headline", "")) if status == "ok" else f'<span class="failed">{html.escape(status)}</span>'
    colab = COLAB.format(repo=REPOSITORY, name=name)
    return (f'<div class="lecture">{thumb}<div><h2><a href="{name}.html">{html.escape(title)}</a></h2>'
            f'<p>{html.escape(goal)}</p><p class="meta">{seconds} · {result}</p>'
            f'<p><a href="{colab}"><img src="colab-badge.svg" alt="Open in Colab"></a></p></div></div>')
