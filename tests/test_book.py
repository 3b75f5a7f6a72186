"""Static checks of the book: its configuration and its committed notebooks.

Nothing is executed here (nbval runs the chapters, tests/browser/ opens
the built pages); these checks read files and take well under a second.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sphinx_external_toc.parsing import parse_toc_yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
# nbval compares the outputs of cells with this tag (or the older comment).
CHECK_TAG = "nbval-check-output"
CHECK_COMMENT = "NBVAL_CHECK_OUTPUT"
# Chapters show gankit's code; a helper longer than this belongs in gankit.
MAX_FUNCTION_LINES = 12


# Every page in reading order, as Jupyter Book reads _toc.yml (parts included).
PAGES = list(parse_toc_yaml(ROOT / "_toc.yml").keys())
IDS = [page.split("/")[-1] for page in PAGES]


def notebook(page: str) -> nbformat.NotebookNode:
    path = ROOT / f"{page}.ipynb"
    if not path.exists():
        pytest.skip(f"{path.name} is missing (test_every_page_of_the_toc_exists)")
    return nbformat.read(path, as_version=4)


def is_checked(cell: nbformat.NotebookNode) -> bool:
    return CHECK_TAG in cell.metadata.get("tags", []) or CHECK_COMMENT in cell.source


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def python_of(source: str) -> ast.Module:
    """A code cell as Python: IPython magics become plain calls first."""
    return ast.parse(TransformerManager().transform_cell(source))


def markdown_text(nb: nbformat.NotebookNode) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def package_names(requirements: list[str]) -> dict[str, str]:
    """{normalised name: version specifier} of requirement strings."""
    parsed = [Requirement(r) for r in requirements]
    return {canonicalize_name(r.name): str(r.specifier) for r in parsed}


# --- configuration -----------------------------------------------------------


def test_binder_environment_installs_the_package_and_book_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = package_names(
        project["dependencies"] + project["optional-dependencies"]["book"]
    )
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    tooling = {"python", "pip"}
    conda_names = {
        canonicalize_name(re.split(r"[=<>! ]", d)[0]) for d in conda
    } - tooling
    assert conda_names == set(), "list Python packages under pip, as in pyproject"
    assert "-e ." in pip, "Binder must install gankit itself"
    listed = package_names([r for r in pip if not r.startswith("-")])
    assert listed == wanted


def test_every_page_of_the_toc_exists():
    missing = [p for p in PAGES if not (ROOT / f"{p}.ipynb").exists()]
    assert missing == []


def test_every_notebook_in_book_is_in_the_toc():
    notebooks = {f"book/{p.stem}" for p in (ROOT / "book").glob("*.ipynb")}
    assert notebooks - set(PAGES) == set()


def test_book_executes_changed_chapters_and_fails_on_errors():
    # Unchanged chapters come from the execution cache, which
    # scripts/build_book.py empties when the profile changes.
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["raise_on_error"] is True
    assert execute["allow_errors"] is False
    assert CONFIG["only_build_toc_files"] is True


def test_pages_load_widgets_and_math_from_the_book_itself():
    sphinx = CONFIG["sphinx"]["config"]
    static = [ROOT / p for p in sphinx["html_static_path"]]
    scripts = [*sphinx["nb_ipywidgets_js"], sphinx["mathjax_path"]]
    for script in scripts:
        assert "://" not in script, f"{script} would come from another site"
        assert any((s / script).is_file() for s in static), f"{script} is missing"
    for name, path in CONFIG["sphinx"]["local_extensions"].items():
        assert (ROOT / path / f"{name}.py").is_file()


def test_launch_buttons_come_from_the_one_repository_url():
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"].startswith("https://")
    assert launch["colab_url"].startswith("https://")
    assert re.fullmatch(
        r"https://github\.com/[\w.-]+/[\w.-]+", CONFIG["repository"]["url"]
    )


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_notebook_names_the_configured_repository(page):
    repo = CONFIG["repository"]["url"]
    text = nbformat.writes(notebook(page))
    for url in re.findall(r"https://github\.com/[\w.-]+/gankit\b", text):
        assert url == repo, "copy the repository URL from _config.yml"


# --- committed notebooks ------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_only_checked_cells_keep_outputs_and_those_are_text(page):
    # As scripts/clean_notebooks.py leaves them: nbval wants an execution count
    # on a cell with reference outputs, so checked cells are numbered 1, 2, 3...
    checked = 0
    for cell in code_cells(notebook(page)):
        if not is_checked(cell):
            assert cell.execution_count is None
            assert cell.outputs == [], f"outputs left in: {cell.source[:60]!r}"
            continue
        checked += 1
        assert cell.execution_count == checked
        for out in cell.outputs:
            assert out.output_type in ("stream", "execute_result", "display_data")
            if out.output_type == "stream":
                assert out.name == "stdout", "nbval compares stdout, not stderr"
                continue
            assert set(out.data) == {"text/plain"}, f"{set(out.data)} kept"
            if out.output_type == "execute_result":
                assert out.execution_count == checked


# Tags that keep a cell's code off the page, and what only nbval needs to read.
HIDDEN_INPUT = {"remove-cell", "remove-input", "hide-input"}
PLUMBING = re.compile(r"\bassert |\bglue\(|NBVAL")


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_shown_code_holds_no_checks_for_nbval(page):
    found = [
        line.strip()
        for cell in code_cells(notebook(page))
        if not HIDDEN_INPUT & set(cell.metadata.get("tags", []))
        for line in cell.source.splitlines()
        if PLUMBING.search(line)
    ]
    assert found == [], (
        "checks for nbval go in their own cell tagged remove-cell (remove-input "
        f"to keep its output), and nbval-check-output replaces the comment: {found}"
    )


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_notebook_keeps_no_widget_state(page):
    assert "widgets" not in notebook(page).metadata


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_chapter_defines_no_class_and_no_long_function(page):
    for cell in code_cells(notebook(page)):
        for node in ast.walk(python_of(cell.source)):
            assert not isinstance(node, ast.ClassDef), (
                f"class {node.name}: classes belong in gankit"
            )
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                assert length <= MAX_FUNCTION_LINES, (
                    f"def {node.name} has {length} lines: move it into gankit"
                )


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_chapter_imports_gankit_and_reads_its_profile(page):
    nb = notebook(page)
    imported = set()
    for cell in code_cells(nb):
        for node in ast.walk(python_of(cell.source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert "gankit" in imported
    assert any("current_profile(" in cell.source for cell in code_cells(nb))


FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.DOTALL | re.MULTILINE)
HEADING = re.compile(r"^(#{1,6})\s+(.+)$", re.MULTILINE)
DROPDOWN = re.compile(
    r"^(?:`{3,}|:{3,})\{admonition\}.*\n(?::[\w-]+:.*\n)*?:class:.*\bdropdown\b",
    re.MULTILINE,
)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_chapter_ends_with_exercises_and_hidden_solutions(page):
    text = markdown_text(notebook(page))
    sections = [m for m in HEADING.finditer(FENCE.sub("", text)) if len(m[1]) <= 2]
    assert sections, "no headings"
    assert re.search(r"exercise", sections[-1][2], re.IGNORECASE), (
        f"the last section is {sections[-1][2]!r}, not the exercises"
    )
    tail = text[text.rindex(sections[-1][0]) :]
    assert DROPDOWN.search(tail), "exercises need an {admonition} with :class: dropdown"


def test_offline_pages_drops_the_animation_cdn_link_and_flags_remote_files(caplog):
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import offline_pages
    finally:
        sys.path.pop(0)
    link = (
        '<link rel="stylesheet"\n'
        'href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/'
        'font-awesome.min.css">\n'
    )
    remote = '<img src="https://example.org/cat.png">'
    context = {"body": f"<p>before</p>{link}<div class='animation'></div>{remote}"}
    offline_pages.keep_pages_offline(None, "book/x", "page.html", context, None)
    assert "maxcdn" not in context["body"]
    assert "<div class='animation'></div>" in context["body"]
    assert "https://example.org/cat.png" in caplog.text


def imported_gankit_names(page: str) -> list[tuple[str, str | None]]:
    """Each ``(module, name)`` a chapter imports from gankit: ``("gankit",
    "Trainer")`` for ``from gankit import Trainer``, ``("gankit.cli", None)``
    for ``import gankit.cli``."""
    found = []
    for cell in code_cells(notebook(page)):
        for node in ast.walk(python_of(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "gankit"
            ):
                found += [(node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [
                    (alias.name, None)
                    for alias in node.names
                    if alias.name.split(".")[0] == "gankit"
                ]
    return found


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_chapters_import_only_from_gankit_and_its_lessons(page):
    import gankit

    wrong = [
        (module, name)
        for module, name in imported_gankit_names(page)
        if not (
            (module == "gankit" and (name is None or name in gankit.__all__))
            or module == "gankit.lessons"
            or module.startswith("gankit.lessons.")
        )
    ]
    assert wrong == [], (
        "chapters import the kit's public names from gankit (gankit.__all__) and "
        "the lessons from gankit.lessons.<module>; reach any other building block "
        "as gankit.<module>.<name>"
    )


def test_the_import_rule_reads_every_form_of_import():
    cells = [
        "from gankit import Trainer\nimport gankit.cli\n",
        "from gankit.lessons.warmup import Forger\nimport torch\n",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    import unittest.mock

    with unittest.mock.patch(f"{__name__}.notebook", return_value=nb):
        assert imported_gankit_names("any") == [
            ("gankit", "Trainer"),
            ("gankit.cli", None),
            ("gankit.lessons.warmup", "Forger"),
        ]
