"""Strip notebooks for git: no outputs except the cells nbval compares.

    python scripts/clean_notebooks.py book/*.ipynb

Keeps the outputs of the cells nbval compares, those tagged
``nbval-check-output`` (the older ``# NBVAL_CHECK_OUTPUT`` comment counts too),
text only: images and widget views are dropped. Numbers those cells 1, 2, 3...
and clears every other execution count,
and removes per-run metadata. Run it after executing a chapter to capture
the outputs that nbval will compare.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

TAG = "nbval-check-output"
COMMENT = "NBVAL_CHECK_OUTPUT"
TEXT_TYPES = ("text/plain",)


def is_checked(cell: nbformat.NotebookNode) -> bool:
    """Whether nbval compares this cell's output: the tag, or the old comment."""
    return TAG in cell.metadata.get("tags", []) or COMMENT in cell.source


def clean(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    checked = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        if not is_checked(cell):
            cell.outputs = []
            continue
        # nbval refuses a cell with outputs but no execution count ("Unrun
        # reference cell has outputs"), so checked cells are numbered 1, 2, 3...
        checked += 1
        cell.execution_count = checked
        kept = []
        for out in cell.outputs:
            if out.output_type == "stream" and out.name == "stdout":
                kept.append(out)
            elif out.output_type in ("execute_result", "display_data"):
                data = {k: v for k, v in out.data.items() if k in TEXT_TYPES}
                if data:
                    out.data = data
                    out.metadata = {}
                    if out.output_type == "execute_result":
                        out.execution_count = checked
                    kept.append(out)
        cell.outputs = kept
    nb.metadata.pop("widgets", None)
    after = nbformat.writes(nb)
    if after != before:
        path.write_text(after + ("" if after.endswith("\n") else "\n"))
        return True
    return False


def main(paths: list[str]) -> int:
    for p in paths:
        if clean(Path(p)):
            print(f"cleaned {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
