"""`make site`: the course site built from executed notebooks, and the check of its links and images.

The notebooks are two tiny lectures executed by the same runner as `make run`
(a third one fails), so the site is built from what `make run` really writes.
The browser part runs when Debian's `chromium` is installed (`make site-check`
runs it always); the static link and image check runs everywhere.
"""

from __future__ import annotations

import base64
import re
import shutil

import nbformat
import pytest

from toolkit import REPOSITORY, course
from toolkit.site import build_site, first_image
from toolkit.site_check import browser_check, check_site


def _write_nb(path, goal, *cells):
    md = f"# {path.stem[:2]} · Title of {path.stem}\n\nIntro line.\n\n**Goal.** {goal}\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    md += f"(https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{path.name})"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(md)] + [nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    nbdir, build = root / "notebooks", root / "build"
    nbdir.mkdir()
    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2]); plt.show()"
    _write_nb(nbdir / "01_first.ipynb", "Learn the *first* thing.", "print('Headline: answer = 42')", plot, plot)
    _write_nb(nbdir / "02_second.ipynb", "Learn the second thing.", plot)
    _write_nb(nbdir / "03_broken.ipynb", "Never finishes.", "assert False, 'planted'")
    course.run_course(nbdir, build)
    return nbdir, build, build_site(build)


def test_index_lists_the_lectures_in_order_with_goal_figure_and_time(built):
    nbdir, build, site = built
    index = (site / "index.html").read_text()
    assert index.index("Title of 01_first") < index.index("Title of 02_second")
    assert "Learn the first thing." in index  # the Goal paragraph, Markdown stripped
    assert re.search(r"\d+ s in fast mode · answer = 42", index)
    assert "planted" in index and 'href="03_broken.html"' not in index  # unfinished: listed, no page
    executed = nbformat.read(build / "01_first.ipynb", as_version=4)
    assert (site / "thumbs" / "01_first.png").read_bytes() == first_image(executed)
    assert first_image(executed).startswith(b"\x89PNG")
    colab = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/01_first.ipynb"
    assert colab in index


def test_pages_link_to_each_other_and_keep_their_figures(built):
    _, _, site = built
    first, second = (site / "01_first.html").read_text(), (site / "02_second.html").read_text()
    assert 'href="02_second.html"' in first and 'href="index.html"' in first and 'href="01_first.html"' not in first
    assert 'href="01_first.html"' in second and 'href="03_broken.html"' not in second
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', first)) == 2
    assert "colab-badge.svg" in first and "assets/colab-badge.svg" not in first  # works offline
    assert sorted(p.name for p in site.glob("*.html")) == ["01_first.html", "02_second.html", "index.html"]


def test_the_site_has_no_broken_link_or_image(built):
    nbdir, build, site = built
    assert check_site(site, notebooks_dir=nbdir) == []
    if shutil.which("chromium"):  # the browser part: `make site-check` always runs it
        assert browser_check(site, build / "shots", screenshots=("index.html",)) == []
        assert (build / "shots" / "index.png").read_bytes().startswith(b"\x89PNG")


def test_the_check_finds_planted_problems(built, tmp_path):
    nbdir, _, site = built
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    (copy / "thumbs" / "02_second.png").unlink()
    bad_png = base64.b64encode(b"not an image").decode()
    page = (copy / "01_first.html").read_text()
    page = page.replace("</body>", f'<img src="data:image/png;base64,{bad_png}"><a href="02_second.html#nowhere">x</a>'
                        '<a href="gone.html">y</a></body>', 1)
    (copy / "01_first.html").write_text(page)
    problems = check_site(copy, notebooks_dir=tmp_path)  # an empty notebooks/: every Colab link is dangling
    assert "index.html: <img> points to a missing file: thumbs/02_second.png" in problems
    assert "01_first.html: <img> holds a data URI that is not an image" in problems
    assert "01_first.html: <a> points to a missing anchor: 02_second.html#nowhere" in problems
    assert "01_first.html: <a> points to a missing file: gone.html" in problems
    assert sum("Colab link to a notebook that notebooks/ lacks" in p for p in problems) == 2 * 3 + 2
    if shutil.which("chromium"):
        broken = browser_check(copy, tmp_path / "shots", screenshots=())
        assert sorted(p.split(":")[0] for p in broken) == ["01_first.html", "index.html"], broken


def test_build_site_needs_executed_notebooks(tmp_path):
    with pytest.raises(ValueError, match="no executed notebooks.*make run"):
        build_site(tmp_path)
