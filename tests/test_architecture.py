"""The import contracts of ``[tool.mock-remd.architecture]`` in pyproject.toml hold.

The import graph is read from the source with :mod:`ast` (module-level imports, imports inside
functions and under ``TYPE_CHECKING`` alike): a module may import modules of the layers below its own;
the packages of one layer do not import each other. The ``allow`` list names today's exceptions; it
only shrinks (an entry that matches no upward import any more fails too).
"""

from __future__ import annotations

import ast
import functools
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "mock_remd"


@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``importer`` imports ``imported`` at ``where``."""

    importer: str
    imported: str
    where: str

    @property
    def edge(self) -> str:
        return f"{self.importer} -> {self.imported}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def import_graph() -> tuple[Import, ...]:
    """Every import of a ``mock_remd`` module by another, one entry per statement and target."""
    found = []
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolved against the importing package
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    targets = [".".join([*base, node.module] if node.module else base)]
                else:
                    targets = [node.module or ""]
            else:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            found += [Import(module, t, where) for t in targets if t == PACKAGE or t.startswith(PACKAGE + ".")]
    return tuple(found)


def component(module: str) -> str:
    """The part of mock_remd a module belongs to: ``mock_remd.core.registry`` → ``core``; the root → ``mock_remd``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def _contracts() -> tuple[list[dict], list[str]]:
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    arch = table["tool"]["mock-remd"]["architecture"]
    return arch["layers"], arch.get("allow", [])


def _rank() -> dict[str, int]:
    layers, _ = _contracts()
    rank: dict[str, int] = {}
    for depth, layer in enumerate(layers):
        for name in layer["packages"]:
            assert name not in rank, f"{name} is in two layers of [tool.mock-remd.architecture]"
            rank[name] = depth  # 0 is the top
    return rank


def upward_imports() -> list[Import]:
    """Imports that go up a layer or sideways within one (the contracts forbid both)."""
    rank = _rank()
    bad = []
    for imp in import_graph():
        a, b = component(imp.importer), component(imp.imported)
        if a != b and rank[b] <= rank[a]:
            bad.append(imp)
    return bad


def test_every_package_is_in_a_layer():
    rank = _rank()
    present = {component(_module_name(p)) for p in (ROOT / PACKAGE).rglob("*.py")}
    missing = sorted(present - set(rank))
    assert not missing, f"add {missing} to a layer of [tool.mock-remd.architecture] in pyproject.toml"
    stale = sorted(set(rank) - present)
    assert not stale, f"{stale} no longer exist: take them out of [tool.mock-remd.architecture]"


def test_the_graph_reads_imports_inside_functions():
    edges = {i.edge for i in import_graph()}
    # module level, inside a function, and under a TYPE_CHECKING guard respectively
    assert "mock_remd.core.processing -> mock_remd.validation.pipeline" in edges
    assert "mock_remd.cli.cmd_send -> mock_remd.client.sink" in edges
    assert "mock_remd.config -> mock_remd.core.lifecycle" in edges


def test_no_import_breaks_the_layers_beyond_the_allow_list():
    layers, allow = _contracts()
    names = {p: layer["name"] for layer in layers for p in layer["packages"]}
    new = [i for i in upward_imports() if not any(fnmatchcase(i.edge, pattern) for pattern in allow)]
    assert not new, (
        "imports against the layers of [tool.mock-remd.architecture] (pyproject.toml, drawn in "
        "docs/architecture.md); import downward instead, or move the shared piece below both:\n"
        + "\n".join(
            f"  {i.where}: {i.edge} ({names[component(i.importer)]} may not import "
            f"{names[component(i.imported)]})"
            for i in new
        )
    )


def test_the_allow_list_only_shrinks():
    _, allow = _contracts()
    edges = {i.edge for i in upward_imports()}
    stale = [p for p in allow if not any(fnmatchcase(e, p) for e in edges)]
    assert not stale, (
        "these allowed exceptions match no upward import any more; delete them from "
        f"[tool.mock-remd.architecture] allow in pyproject.toml (and from docs/architecture.md): {stale}"
    )


# ---- configuration: read once in config.py, passed down ------------------------------------------
#: modules that may read the process environment besides ``mock_remd/config.py``, each for its reason;
#: the list only shrinks (an entry that reads nothing any more fails too)
ENVIRONMENT_READERS = {
    "mock_remd/healthcheck.py": "the container HEALTHCHECK: standard library only, so it cannot load config.py",
}


def environment_reads() -> list[str]:
    """``file:line`` of every read of the process environment in mock_remd (``os.environ``,
    ``os.environb``, ``os.getenv``, ``from os import environ``), outside config.py."""
    found = []
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == f"{PACKAGE}/config.py":
            continue
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            reads = (
                isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
                and node.attr in ("environ", "environb", "getenv", "getenvb")
            ) or (
                isinstance(node, ast.ImportFrom) and node.module == "os"
                and any(a.name in ("environ", "environb", "getenv", "getenvb") for a in node.names)
            )
            if reads:
                found.append(f"{rel}:{node.lineno}")
    return found


def test_no_environment_read_below_config():
    reads = [r for r in environment_reads() if r.rsplit(":", 1)[0] not in ENVIRONMENT_READERS]
    assert not reads, (
        "settings are read once in mock_remd/config.py (Settings.load, environment_value) and passed "
        "down; these modules read the environment themselves:\n  " + "\n  ".join(reads)
    )


def test_the_environment_readers_only_shrink():
    files = {r.rsplit(":", 1)[0] for r in environment_reads()}
    stale = sorted(set(ENVIRONMENT_READERS) - files)
    assert not stale, f"these modules read no environment any more; delete them from ENVIRONMENT_READERS: {stale}"


def _third_party_imports() -> list[tuple[str, str, str]]:
    """``(module, imported top-level library, where)`` for every import of a library outside mock_remd."""
    found = []
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            found += [(module, n.split(".")[0], f"{path.relative_to(ROOT)}:{node.lineno}") for n in names]
    return found


def test_only_the_store_speaks_to_the_database():
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    rule = table["tool"]["mock-remd"]["architecture"]["store_only"]
    libraries, packages = set(rule["libraries"]), set(rule["packages"])
    found = _third_party_imports()
    assert any(lib == "sqlalchemy" and component(m) in packages for m, lib, _ in found), "the rule reads no imports"
    outside = [f"  {where}: {module} imports {lib}" for module, lib, where in found
               if lib in libraries and component(module) not in packages]
    assert not outside, (
        "only mock_remd/store may speak to the database (store_only in [tool.mock-remd.architecture]); "
        "add a method to the store's aggregate instead:\n" + "\n".join(outside)
    )
