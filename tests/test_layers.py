"""Imports only go down the stack written in ARCHITECTURE.md, and no modules import each other."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mmviz"


def layer_ranks() -> dict[str, int]:
    """Unit (a subpackage or top-level module of mmviz) → its rank, from ARCHITECTURE.md."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "ARCHITECTURE.md has no ```layers block"
    ranks = {}
    for line in block.group(1).splitlines():
        rank, *units = line.split()
        ranks.update({unit: int(rank) for unit in units})
    return ranks


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, module) of every mmviz import in the file, inside functions too."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from mmviz.x import y` may name a submodule y: count it as one.
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names
                      if (PACKAGE.parent / Path(*f"{module}.{alias.name}".split("."))).with_suffix(".py").exists()
                      or (PACKAGE.parent / Path(*f"{module}.{alias.name}".split("."))).is_dir()]
    return [(line, m) for line, m in found if m == "mmviz" or m.startswith("mmviz.")]


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_unit_has_a_layer():
    ranks = layer_ranks()
    units = {unit(module_name(path)) for path in SOURCES}
    assert units - set(ranks) == set(), "add these to ARCHITECTURE.md's layers block"
    assert set(ranks) - units == set(), "ARCHITECTURE.md names units that do not exist"


def wrong_way_imports(sources: list[Path], root: Path = ROOT) -> list[str]:
    """One line per import that points up or sideways in the stack."""
    ranks = layer_ranks()
    wrong = []
    for path in sources:
        here = unit(module_name(path, root))
        for line, module in imports(path, root):
            there = unit(module)
            if there == here or module == "mmviz":
                continue
            if ranks[there] >= ranks[here]:
                way = "up" if ranks[there] > ranks[here] else "sideways"
                wrong.append(f"{path.relative_to(root)}:{line} imports {module} ({way}: {here} {ranks[here]} → "
                             f"{there} {ranks[there]})")
    return wrong


def test_imports_only_go_down_the_stack():
    assert wrong_way_imports(SOURCES) == []


def test_no_import_cycles_between_modules():
    names = {module_name(path): path for path in SOURCES}
    graph = {name: {m for _, m in imports(path) if m in names and m != name} for name, path in names.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("source, message", [
    ("from mmviz.ui.shell import page_setup\n", "(up: runs 6 → ui 10)"),
    ("def f():\n    from mmviz.trees import models\n", "(up: runs 6 → trees 7)"),
    ("from mmviz.gaussian.theory import canonical\n", "(up: runs 6 → gaussian 7)"),
    ("from mmviz.runs.store import RunStore\nfrom mmviz.errors import MmvizError\n", None),
])
def test_the_check_catches_an_upward_import(tmp_path, source, message):
    # A runs module that imports upward, at the top or hidden in a function.
    probe = tmp_path / "mmviz" / "runs" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(source, encoding="utf-8")
    wrong = wrong_way_imports([probe], tmp_path)
    assert (wrong == []) if message is None else (wrong != [] and all(w.endswith(message) for w in wrong))
