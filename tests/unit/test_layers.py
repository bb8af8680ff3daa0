"""The layers hold: ``shared`` is the pure domain (no I/O, no clients), ``adapters`` sit between it and the edges,
and ``api``, ``workers`` and ``web`` never import each other."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = sorted(p for p in (ROOT / "shared").glob("*.py"))

# Third-party packages ``shared`` may use: msgspec for the Structs. Everything else it imports is the standard library.
SHARED_THIRD_PARTY = frozenset({"msgspec"})
# Standard-library modules that do I/O or run things concurrently: they belong in adapters or at the edges.
IO_MODULES = frozenset(
    {
        "asyncio", "concurrent", "fcntl", "ftplib", "glob", "http", "mmap", "multiprocessing", "os", "pathlib",
        "select", "selectors", "shutil", "signal", "smtplib", "socket", "sqlite3", "ssl", "subprocess", "tempfile",
        "threading", "urllib.request",
    }
)  # fmt: skip
# Reading environment variables is how settings are loaded; the Path is the data directory's type.
ALLOWED_IO = {"settings.py": frozenset({"os", "pathlib"})}
IO_CALLS = frozenset({"open", "read_bytes", "write_bytes", "read_text", "write_text", "mkdir", "unlink", "touch"})
# Clients a pure module must not even load indirectly.
CLIENTS = (
    "redis", "arq", "litestar", "starlette", "uvicorn", "aiokafka", "clickhouse_connect", "chdb", "httpx",
    "cryptography", "webpush", "onnxruntime", "anyio", "reactpy",
)  # fmt: skip


def imported(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (function-level imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def top(name: str) -> str:
    return name.split(".", 1)[0]


@pytest.mark.parametrize("path", SHARED, ids=lambda p: p.name)
def test_a_shared_module_imports_only_the_standard_library_msgspec_and_shared(path: Path) -> None:
    outside = {
        n for n in imported(path) if top(n) not in sys.stdlib_module_names and top(n) not in {"shared", "__future__"}
    }
    assert {top(n) for n in outside} <= SHARED_THIRD_PARTY, f"{path.name} imports {sorted(outside)}"


@pytest.mark.parametrize("path", SHARED, ids=lambda p: p.name)
def test_a_shared_module_does_no_io(path: Path) -> None:
    allowed = ALLOWED_IO.get(path.name, frozenset())
    io_imports = {n for n in imported(path) if (top(n) in IO_MODULES or n in IO_MODULES) and top(n) not in allowed}
    assert not io_imports, f"{path.name} imports {sorted(io_imports)}"
    calls = {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
    }
    assert not calls & IO_CALLS, f"{path.name} calls {sorted(calls & IO_CALLS)}"


def test_importing_all_of_shared_loads_no_framework_queue_database_network_or_crypto_client() -> None:
    modules = [f"shared.{p.stem}" for p in SHARED if p.stem != "__init__"]
    script = f"import json, sys\nfor m in {modules!r}: __import__(m)\nprint(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True).stdout
    )
    clients = sorted({top(m) for m in loaded} & set(CLIENTS))
    assert clients == [], f"importing shared loads {clients}"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("shared", {"adapters", "api", "workers", "web", "bankroll"}),
        ("adapters", {"api", "workers", "web", "bankroll"}),
        ("api", {"workers", "web", "bankroll"}),
        ("workers", {"api", "web", "bankroll"}),
        ("web", {"api", "workers", "adapters", "bankroll"}),
    ],
)
def test_a_layer_imports_only_the_layers_below_it(package: str, forbidden: set[str]) -> None:
    crossing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in imported(path)
        if top(name) in forbidden
    }
    assert not crossing, sorted(crossing)
