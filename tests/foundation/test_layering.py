"""The design's dependency rule: each package imports only the packages before it.

Order: merchants → payments → reconcile → adoption → access → web. Shared modules (banks, cliutil, config,
db, errors, formats, spreadsheet, text) are below all of them and import none of them. Inside reconcile:
ingest → matching → ledger, over the modules the three share (notification, reasons, statuses, speedups);
the matching core imports no database, no asyncio and no I/O. ``devtools`` (the demo market, the
load simulator) may use every package but web, and only the command line imports it.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "market"
ORDER = ["merchants", "payments", "reconcile", "adoption", "access", "web"]
SHARED = ["banks", "cliutil", "config", "db", "errors", "formats", "spreadsheet", "text"]
RECONCILE = SRC / "reconcile"
RECONCILE_ORDER = ["ingest", "matching", "ledger"]
RECONCILE_SHARED = ["notification", "reasons", "statuses", "speedups"]


def _all_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, ours or not (``from a import b`` gives ``a`` and ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _imports(path: Path) -> set[str]:
    return {name for name in _all_imports(path) if name == "market" or name.startswith("market.")}


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _violations(owner: str, allowed: set[str]) -> list[str]:
    base = SRC / owner
    single = SRC / f"{owner}.py"
    files = sorted(base.rglob("*.py")) if base.is_dir() else [single] if single.exists() else []
    bad = []
    for path in files:
        for module in _imports(path):
            target = _package_of(module)
            if target is None or target == owner or target in allowed:
                continue
            if target in ORDER or target in SHARED or target in {"cli", "migrations", "devtools"}:
                bad.append(f"{path.relative_to(SRC)} imports {module}")
    return bad


@pytest.mark.parametrize("index", range(len(ORDER)))
def test_packages_import_only_earlier_packages(index):
    owner = ORDER[index]
    allowed = set(ORDER[:index]) | set(SHARED)
    assert _violations(owner, allowed) == []


@pytest.mark.parametrize("shared", SHARED)
def test_shared_modules_import_no_package(shared):
    allowed = set(SHARED) - {shared}
    assert _violations(shared, allowed) == []


def test_matching_core_and_packages_below_web_import_no_litestar():
    for owner in ORDER[:-1]:
        for path in (SRC / owner).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                assert not any(n.split(".")[0] == "litestar" for n in names), f"{path} imports litestar"


def test_the_rule_is_checked_at_all():
    # A guard against the walker silently finding nothing: the web app must import earlier packages.
    assert any(_imports(p) for p in (SRC / "web").rglob("*.py"))


def _reconcile_part(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] != ["market", "reconcile"] or len(parts) < 3:
        return None
    return parts[2]


@pytest.mark.parametrize("index", range(len(RECONCILE_ORDER)))
def test_reconcile_parts_import_only_earlier_parts(index):
    owner = RECONCILE_ORDER[index]
    allowed = set(RECONCILE_ORDER[: index + 1]) | set(RECONCILE_SHARED)
    bad = []
    for path in sorted((RECONCILE / owner).rglob("*.py")):
        for module in _imports(path):
            part = _reconcile_part(module)
            if part is not None and part not in allowed:
                bad.append(f"{path.relative_to(SRC)} imports {module}")
    assert bad == []


@pytest.mark.parametrize("shared", RECONCILE_SHARED)
def test_reconcile_shared_modules_import_no_part(shared):
    imported = {_reconcile_part(m) for m in _imports(RECONCILE / f"{shared}.py")}
    assert imported & set(RECONCILE_ORDER) == set()


def test_matching_core_does_no_io():
    forbidden = ("sqlalchemy", "asyncio", "anyio", "psycopg", "sqlite3", "aiosqlite", "httpx", "socket", "market.db")
    bad = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in sorted((RECONCILE / "matching").rglob("*.py"))
        for module in _all_imports(path)
        if any(module == name or module.startswith(name + ".") for name in forbidden)
    ]
    assert bad == []
    assert list((RECONCILE / "matching").rglob("*.py")), "the matching package is where the layering test looks"


def test_only_the_command_line_imports_devtools():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        if path == SRC / "cli.py" or (SRC / "devtools") in path.parents:
            continue
        bad.extend(f"{path.relative_to(SRC)} imports {m}" for m in _imports(path) if _package_of(m) == "devtools")
    assert bad == []


def test_devtools_do_not_import_web():
    bad = [
        f"{path.relative_to(SRC)} imports {m}"
        for path in sorted((SRC / "devtools").rglob("*.py"))
        for m in _imports(path)
        if _package_of(m) == "web"
    ]
    assert bad == []
