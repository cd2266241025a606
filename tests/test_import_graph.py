"""The import graph: no cycles between the project's modules, and each package in its zone.

The graph is read from the source, not by importing it: an edge from module A to
module B for each import that runs when A is loaded (the statements at A's top
level, `if TYPE_CHECKING:` blocks left out). A package importing its own
submodules is not an edge: that is how a Flask package registers the views of
its blueprint, and loading a submodule loads its package first anyway.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The four packages of the product, and `devnet`, the development tools beside them.
PACKAGES = ("app", "crypto", "review", "submit", "devnet")


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the packages (Alembic's migration scripts aside)."""
    return {
        _name(p): p
        for package in PACKAGES
        for p in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in p.parts
    }


def _top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.If | ast.Try | ast.With):
            yield from (n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def graph() -> dict[str, set[str]]:
    """Each module and the project modules its loading imports."""
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        targets: set[str] = set()
        for node in _top_level_imports(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in known}
            elif node.level == 0 and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in known else node.module)
        edges[name] = {t for t in targets if t in known and t != name and _not_own(name, t)}
    return edges


def _not_own(package: str, target: str) -> bool:
    return not target.startswith(f"{package}.")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_cycle() -> None:
    edges = graph()
    assert len(edges) > 150  # every package was read
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_conflicts_and_triage_share_the_state_module_not_each_other() -> None:
    edges = graph()
    assert "review.workspace.state" in edges["review.casework.conflicts"]
    assert "review.casework.triage" not in edges["review.casework.conflicts"]


def test_the_cli_and_the_terminal_ui_share_presentation_not_each_other() -> None:
    """The rooms (workspace, casework...) never import a way in; the two ways in never
    import each other: what both draw lives in `review.present`."""
    edges = graph()
    ways_in = ("review.cli", "review.tui")
    for module, imported in edges.items():
        if not module.startswith("review."):
            continue
        mine = next((w for w in ways_in if module == w or module.startswith(w + ".")), None)
        for target in imported:
            other = next((w for w in ways_in if target == w or target.startswith(w + ".")), None)
            if other is None or other == mine:
                continue
            # The CLI's `ui` command starts the terminal UI: the one way from one to the other.
            allowed = module == "review.cli.tui" and other == "review.tui"
            assert allowed, f"{module} imports {target}"


# Who may import whom (every import, at any depth): DESIGN.md's trust zones.
# No package of the product imports the development tools; they drive the server's tor.
FORBIDDEN: dict[str, frozenset[str]] = {
    "crypto": frozenset({"app", "review", "submit", "devnet", "flask", "sqlalchemy"}),
    "app": frozenset({"review", "submit", "devnet"}),
    "review": frozenset({"app", "submit", "devnet", "flask", "sqlalchemy"}),
    "submit": frozenset({"app", "review", "devnet", "flask", "sqlalchemy"}),
    "devnet": frozenset({"review", "submit", "flask", "sqlalchemy"}),
}
# Only crypto/ touches libsodium and pyca's primitives (benchmarks measure them raw).
CRYPTO_ONLY = frozenset({"nacl", "cryptography"})


def _imported_tops(path: Path) -> set[str]:
    """The top-level names of everything a file imports, wherever the import stands."""
    tops: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            tops |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return tops


def test_each_package_imports_only_what_its_zone_may() -> None:
    broken = {
        str(path.relative_to(ROOT)): sorted(_imported_tops(path) & FORBIDDEN[package])
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if _imported_tops(path) & FORBIDDEN[package]
    }
    assert broken == {}


def test_nacl_and_cryptography_are_imported_in_crypto_only() -> None:
    outside = [
        p
        for p in sorted(ROOT.rglob("*.py"))
        # mutants/ is mutmut's working copy of crypto/ (.ci/run), ignored by git.
        if p.relative_to(ROOT).parts[0] not in ("crypto", ".venv", "mutants")
        and p.relative_to(ROOT).parts[:2] != ("tests", "bench")
        and _imported_tops(p) & CRYPTO_ONLY
    ]
    assert outside == []


# app/ is two houses on one core: the web app (the blueprints, their forms, and the
# use-cases in `app.services` that they call) and the operations an operator runs
# (`app.operations`, reached through the CLI). Views may run an operation; operations
# never reach a view; the core (factory, config, models, store...) never loads an operation.
WAYS_IN = ("app.source", "app.staff", "app.api", "app.cli")
# The web use-cases that run an operation, and which: the dashboard's export and
# reply-upload buttons run the bundle exchange the CLI runs, and it counts the items
# retention calls unacknowledged, as of the last sweep (whose time the sweep keeps). A
# removal, and a keyring install's lock (`app.reviewer_accounts`), revoke the staff-onion
# devices added for the account in their own commit. Every other use-case stays out of
# `app.operations`.
SERVICES_RUN_OPERATIONS: dict[str, frozenset[str]] = {
    "app.services.dashboard": frozenset(
        {"app.operations.exchange", "app.operations.retention", "app.operations.sweep"}
    ),
    "app.services.staff": frozenset({"app.operations.tor.owners"}),
    "app.reviewer_accounts": frozenset({"app.operations.tor.owners"}),
}
# What operations share with the web use-cases: the audit log, the request-free service
# context, and resumable uploads (restarts recover them, retention expires them).
SHARED_SERVICES = frozenset(
    {"app.services.audit", "app.services.context", "app.services.resumable"}
)


def _imported_modules(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules a file imports, wherever the import stands (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else node.module)
    return {name for name in found if name in known}


def _within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in packages)


def _imports_of(package: str) -> dict[str, set[str]]:
    known = modules()
    return {
        name: _imported_modules(path, known)
        for name, path in known.items()
        if _within(name, package)
    }


def test_operations_never_import_a_blueprint_or_the_cli() -> None:
    imports = _imports_of("app.operations")
    assert {"app.operations.doctor", "app.operations.serve", "app.operations.tor.control"} <= set(
        imports
    )
    reached = {m: sorted(t for t in ts if _within(t, *WAYS_IN)) for m, ts in imports.items()}
    assert {m: ts for m, ts in reached.items() if ts} == {}


def test_operations_share_only_the_building_blocks_of_the_web_use_cases() -> None:
    used = {
        module: sorted(
            t for t in targets if _within(t, "app.services") and t not in SHARED_SERVICES
        )
        for module, targets in _imports_of("app.operations").items()
    }
    assert {m: ts for m, ts in used.items() if ts} == {}


def test_web_use_cases_never_import_a_way_in() -> None:
    imports = _imports_of("app.services")
    assert "app.services.dashboard" in imports
    reached = {m: sorted(t for t in ts if _within(t, *WAYS_IN)) for m, ts in imports.items()}
    assert {m: ts for m, ts in reached.items() if ts} == {}


def test_only_the_ways_in_and_the_listed_use_cases_run_operations() -> None:
    """The factory, the models, the store... never load an operation; views and the CLI may."""
    imports = _imports_of("app")
    beyond = {
        module: sorted(
            t
            for t in targets
            if _within(t, "app.operations") and t not in SERVICES_RUN_OPERATIONS.get(module, ())
        )
        for module, targets in imports.items()
        if not _within(module, "app.operations", *WAYS_IN)
    }
    assert {m: ts for m, ts in beyond.items() if ts} == {}
    # Each permission is still used: a stale one would let a new import slip through.
    for module, allowed in SERVICES_RUN_OPERATIONS.items():
        assert allowed <= imports[module], module


def test_the_private_tor_network_is_loaded_only_to_serve_the_demonstration() -> None:
    """`raazdar serve --tor private` is the one way into it from app/, by path, not by import.

    The tests import it too; the product's packages never do (`FORBIDDEN`).
    """
    assert "devnet.private_network" in modules()
    loaders = {m for m, ts in _imports_of("app").items() if "app.operations.tor.private" in ts}
    assert loaders == {"app.operations.serve"}
