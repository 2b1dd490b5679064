"""Layers import downwards only, and connectors see nothing of the pipeline's internals.

The order, lowest first (a module may import its own layer and those below it):
model/errors/durations → config/store/private_files → clients → notices → pipeline →
wiring → service → cli/web. `worker.wiring` (a package) is the only part of the core that imports a
connector; a connector imports only the protocols, the model, the errors and private files.
Imports inside functions and under TYPE_CHECKING count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LAYERS = (
    ("worker.model", "worker.errors", "worker.durations", "worker.addresses"),
    ("worker.config", "worker.store", "worker.private_files"),
    ("worker.clients",),
    ("worker.notices",),
    ("worker.pipeline",),
    ("worker.wiring",),
    ("worker.service",),
    ("worker.cli", "worker.web"),
)
CONNECTORS_MAY_IMPORT = (
    "worker.model",
    "worker.errors",
    "worker.private_files",
    "worker.pipeline.calendar",
    "worker.pipeline.sender",
)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_of(module: str) -> int | None:
    for number, packages in enumerate(LAYERS):
        if any(_within(module, p) for p in packages):
            return number
    return None


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import of worker or connectors in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in ("worker", "connectors"):
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return [(line, m) for line, m in found if m.split(".")[0] in ("worker", "connectors")]


def violations(root: Path) -> list[str]:
    """Every import in root/worker and root/connectors that breaks the layering."""
    problems = []
    for path in sorted([*root.glob("worker/**/*.py"), *root.glob("connectors/**/*.py")]):
        importer = module_name(path, root)
        for line, imported in imports_of(path):
            where = f"{path.relative_to(root)}:{line}: {importer} imports {imported}"
            if importer.startswith("connectors"):
                if imported.startswith("worker") and not any(
                    _within(imported, allowed) for allowed in CONNECTORS_MAY_IMPORT
                ):
                    problems.append(f"{where} (connectors see only the protocols and model)")
                continue
            if imported.startswith("connectors"):
                if not _within(importer, "worker.wiring"):
                    problems.append(f"{where} (only worker.wiring knows the connectors)")
                continue
            low, high = layer_of(imported), layer_of(importer)
            if low is None or high is None:
                problems.append(f"{where} (module in no layer: add it to LAYERS)")
            elif low > high:
                problems.append(f"{where} (a lower layer imports a higher one)")
    return problems


def test_the_code_imports_downwards_only() -> None:
    assert violations(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path


def test_a_store_module_importing_the_pipeline_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"worker/store/outbox.py": "from worker.pipeline.rules import judge\n"})
    [problem] = violations(root)
    assert "worker/store/outbox.py:1" in problem
    assert "a lower layer imports a higher one" in problem


def test_a_lazy_import_of_the_cli_inside_a_function_is_caught(tmp_path: Path) -> None:
    code = "def f():\n    from worker.cli import main\n    return main\n"
    root = _tree(tmp_path, {"worker/notices/preview.py": code})
    [problem] = violations(root)
    assert "worker/notices/preview.py:2" in problem


def test_a_connector_reaching_into_the_pipeline_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "connectors/caldav.py": "from worker.pipeline.casework import Desk\n"
            "from worker.pipeline.calendar import CalendarSource\n"
            "from worker.model import Session\n"
        },
    )
    [problem] = violations(root)
    assert "worker.pipeline.casework" in problem


def test_only_wiring_may_import_a_connector(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "worker/wiring.py": "from connectors.local import LocalCalendar\n",
            "worker/cli/auth.py": "from connectors.google import authorize\n",
        },
    )
    [problem] = violations(root)
    assert problem.startswith("worker/cli/auth.py:1")


def test_a_module_outside_every_layer_must_be_placed(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"worker/newthing.py": "from worker.model import Session\n"})
    [problem] = violations(root)
    assert "add it to LAYERS" in problem


def test_importing_sideways_and_down_is_allowed(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "worker/pipeline/delivery.py": "from worker.notices.message import build_message\n"
            "from worker.pipeline.sender import Sender\nimport worker.store.outbox\n",
            "worker/cli/main.py": "from worker import wiring\nfrom worker.service import health\n",
        },
    )
    assert violations(root) == []


def test_no_module_outgrows_400_lines() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}: {count} lines"
        for path in [*ROOT.glob("worker/**/*.py"), *ROOT.glob("connectors/**/*.py")]
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 400
    ]
    assert too_long == [], "split these along a seam that names itself"
