"""The package's import graph: no cycles, the network imports only torch, the command line's help imports no trainer,
and the contract's module names (alexnet.lrn, alexnet.arithmetic, alexnet.evaluate) are the moved modules themselves."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "alexnet"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports anywhere in its source (at the top, inside
    functions, or for type checking only): ``from alexnet.x import y`` counts as importing ``alexnet.x.y`` where that
    is a module, else ``alexnet.x``."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    for a in node.names
                ]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as the list of its modules (the first repeated at the end), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_names_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_network_imports_only_torch_and_its_own_subpackage():
    """Besides torch and alexnet.nn, only the package's export helper, which imports nothing of the package."""
    graph = import_graph()
    assert graph["alexnet._exports"] == set()
    outside = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("alexnet.nn")
        for target in targets
        if not target.startswith("alexnet.nn") and target != "alexnet._exports"
    }
    assert not outside, f"alexnet.nn imports from outside itself: {sorted(outside)}"


def test_help_imports_no_trainer():
    code = (
        "import sys, contextlib, io\nfrom alexnet.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n    except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('alexnet.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    loaded = eval(out.strip().splitlines()[-1])
    trainer = {"alexnet.training.loop", "alexnet.training.state", "alexnet.training.sgd"}
    assert not trainer & set(loaded), f"--help imported the trainer: {sorted(trainer & set(loaded))}"


# The project's public contract names these modules; since the package's subpackages they live elsewhere.
CONTRACT = {"alexnet.lrn": "alexnet.nn.lrn", "alexnet.arithmetic": "alexnet.nn.arithmetic",
            "alexnet.evaluate": "alexnet.training.evaluate"}  # fmt: skip


@pytest.mark.parametrize("first", ["the contract's name", "the module's own name"])
def test_the_contracts_module_names_are_the_moved_modules_themselves(first):
    """In a fresh interpreter, imported in either order: ``import alexnet.lrn`` and ``from alexnet import lrn`` give
    the very module object alexnet.nn.lrn (one module, not a copy: a name set on one is seen on the other), its
    __name__ and __spec__.name stay the real ones, and so for alexnet.arithmetic and alexnet.evaluate."""
    code = f"""
import importlib, json, sys
contract = {CONTRACT!r}
seen = {{}}
for alias, real in contract.items():
    order = [alias, real] if {first == "the contract's name"!r} else [real, alias]
    modules = [importlib.import_module(name) for name in order]
    via_from = getattr(__import__("alexnet", fromlist=[alias.split(".")[1]]), alias.split(".")[1])
    exec(f"import {{alias}} as statement")
    modules[0].marker_for_the_test = alias
    seen[alias] = {{
        "same": all(m is sys.modules[real] for m in (*modules, via_from, statement, sys.modules[alias])),
        "marker": getattr(sys.modules[real], "marker_for_the_test", None),
        "name": sys.modules[alias].__name__,
        "spec": sys.modules[alias].__spec__.name,
    }}
print(json.dumps(seen))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    for alias, real in CONTRACT.items():
        assert seen[alias] == {"same": True, "marker": alias, "name": real, "spec": real}, (alias, seen[alias])
