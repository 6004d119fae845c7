"""The lint gate: the whole repository passes `ruff check` and `ruff format --check`, and the
gateway's imports keep to its layers (`lint-imports`, configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    returncode, output = result.returncode, result.stdout + result.stderr
    assert returncode == 0, f"ruff {' '.join(command)} failed:\n{output}"


def test_gateway_layers_point_one_way() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"an import goes against the layers:\n{result.stdout}{result.stderr}"
