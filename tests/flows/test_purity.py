"""flows/ is pure Python: it imports nothing that does I/O or belongs to the gateway."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parents[2] / "flows"
FORBIDDEN = {
    "flask",
    "sqlalchemy",
    "rq",
    "redis",
    "twilio",
    "sendgrid",
    "gateway",
    "requests",
    "alembic",
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(FLOWS.rglob("*.py")), ids=lambda p: p.name)
def test_flow_module_imports_nothing_impure(path: Path) -> None:
    assert imported_roots(path) & FORBIDDEN == set()


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom sqlalchemy.orm import Session\nimport redis.client\n")
    assert imported_roots(sample) & FORBIDDEN == {"sqlalchemy", "redis"}
