"""The package's shape: the kit's layers, no import circle, the lessons apart.

The layers are the table in ``gankit/__init__.py``'s docstring, read from it
here, so the documented order is the checked one. Run this file to see the
graph: ``python tests/test_layers.py`` prints each module's imports.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gankit

PACKAGE = Path(gankit.__file__).parent
LESSONS = PACKAGE / "lessons"


def documented_layers() -> dict[str, int]:
    """Module -> layer, from the numbered lines of the package docstring."""
    layers = {}
    for number, names in re.findall(r"^(\d+)\. [^:]+: (.+)$", gankit.__doc__, re.M):
        for name in names.split(", "):
            layers[name.strip()] = int(number)
    return layers


def _type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports_of(path: Path) -> set[str]:
    """The gankit modules ``path`` imports at run time (lazy imports inside
    functions included; imports under ``if TYPE_CHECKING:`` left out), as
    dotted names relative to the package: ``"step"``, ``"lessons.warmup"``."""
    tree = ast.parse(path.read_text())
    here = path.relative_to(PACKAGE).with_suffix("").parts[:-1]  # its package
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x / from ..x
                base = list(here[: len(here) - node.level + 1])
                module = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "gankit":
                module = node.module.split(".")[1:]
            else:
                module = None
            if module is not None:
                for alias in node.names:  # "from . import cli" names a module
                    candidate = [*module, alias.name]
                    if _module_path(candidate) is not None:
                        found.add(".".join(candidate))
                    elif module:
                        found.add(".".join(module))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "gankit" and len(parts) > 1:
                    found.add(".".join(parts[1:]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if not m.startswith("_")}  # _version: no imports


def _module_path(parts: list[str]) -> Path | None:
    p = PACKAGE.joinpath(*parts)
    if p.with_suffix(".py").is_file():
        return p.with_suffix(".py")
    if (p / "__init__.py").is_file():
        return p / "__init__.py"
    return None


def kit_modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))


def lesson_modules() -> list[str]:
    return sorted(p.stem for p in LESSONS.glob("*.py") if p.stem != "__init__")


def test_every_kit_module_has_a_documented_layer():
    layers = documented_layers()
    assert sorted(layers) == kit_modules()


def test_each_kit_module_imports_only_its_layer_or_below():
    layers = documented_layers()
    upward = [
        f"{m} (layer {layers[m]}) imports {d} (layer {layers[d]})"
        for m in kit_modules()
        for d in imports_of(PACKAGE / f"{m}.py")
        if d in layers and layers[d] > layers[m]
    ]
    assert upward == []


def test_the_kit_never_imports_a_lesson():
    into_lessons = [
        (m, d)
        for m in kit_modules()
        for d in imports_of(PACKAGE / f"{m}.py")
        if d.split(".")[0] == "lessons"
    ]
    assert into_lessons == []


def test_no_lesson_imports_another():
    crossing = [
        (m, d)
        for m in lesson_modules()
        for d in imports_of(LESSONS / f"{m}.py")
        if d.startswith("lessons")
    ]
    assert crossing == []


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each circle a depth-first walk of ``graph`` meets, as a path a -> ... -> a."""
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def walk(m: str, path: list[str]) -> None:
        state[m] = "open"
        for d in sorted(graph.get(m, ())):
            if state.get(d) == "open":
                cycles.append([*path[path.index(d) :], d])
            elif d not in state:
                walk(d, [*path, d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            walk(m, [m])
    return cycles


def test_the_kit_imports_in_no_circle():
    kit = set(kit_modules())
    graph = {m: imports_of(PACKAGE / f"{m}.py") & kit for m in kit}
    assert find_cycles(graph) == []


def test_the_cycle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_reader_sees_relative_lazy_and_aliased_imports(tmp_path):
    # The checks above are only as good as imports_of; it must not miss these.
    found = imports_of(PACKAGE / "cli.py")
    assert {"trainer", "metrics", "runfolder"} <= found  # metrics is a lazy import
    assert "cli" in imports_of(PACKAGE / "__init__.py")  # from . import cli
    assert "trainer" not in imports_of(PACKAGE / "callbacks.py")  # TYPE_CHECKING
    assert "step" in imports_of(LESSONS / "toy2d.py")  # from ..step import


def test_importing_gankit_loads_no_lesson():
    import subprocess
    import sys

    code = "import sys, gankit; print(sorted(m for m in sys.modules if 'lessons' in m))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


if __name__ == "__main__":
    layers = documented_layers()
    for m in sorted(kit_modules(), key=lambda m: (layers.get(m, 99), m)):
        deps = sorted(imports_of(PACKAGE / f"{m}.py"))
        print(f"{layers.get(m, '?')}  {m:13s} <- {', '.join(deps) or '-'}")
    for m in lesson_modules():
        deps = sorted(imports_of(LESSONS / f"{m}.py"))
        print(f"L  lessons.{m:13s} <- {', '.join(deps) or '-'}")
