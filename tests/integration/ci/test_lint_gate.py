"""The lint gate (.ci/lint, run by .ci/run before the suites) fails on any ruff or mypy
finding, and passes on clean code.

Each case lints a small project in tmp_path with this project's own pyproject.toml (its
rules, its mypy settings) and one module per linted package, through ``LINT_ROOT``; the
tools are the venv's, at the versions the test extras pin.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
LINT = ROOT / ".ci" / "lint"
RUN = ROOT / ".ci" / "run"
PACKAGES = ("core", "server", "sync", "geo", "notifications", "hardware_adapters", "bench",
            "tests")
CLEAN = '"""A clean module."""\n\n\ndef double(x: int) -> int:\n    return 2 * x\n'


def _project(tmp_path: Path, probe: str) -> Path:
    """A copy of the config with one clean module per package and ``probe`` in server/."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for name in PACKAGES:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text('"""A package."""\n')
        (tmp_path / name / "clean.py").write_text(CLEAN)
    (tmp_path / "server" / "probe.py").write_text(probe)
    return tmp_path


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    bindir = str(Path(sys.executable).parent)  # the venv's ruff and mypy
    env = {**os.environ, "LINT_ROOT": str(root),
           "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run([bash, str(LINT)], capture_output=True, text=True, env=env,
                          timeout=600, check=False)


def test_clean_code_passes_the_gate(tmp_path: Path) -> None:
    done = _lint(_project(tmp_path, CLEAN))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All checks passed!" in done.stdout
    assert "Success: no issues found" in done.stdout


def test_a_ruff_finding_fails_the_gate(tmp_path: Path) -> None:
    # F401: an unused import; mypy has nothing to say about it
    done = _lint(_project(tmp_path, '"""Probe."""\n\nimport json\n'))
    assert done.returncode != 0
    assert "F401" in done.stdout
    assert "server/probe.py" in done.stdout


def test_a_mypy_strict_finding_fails_the_gate(tmp_path: Path) -> None:
    # clean for ruff, but an unannotated function is an error under --strict
    done = _lint(_project(tmp_path, '"""Probe."""\n\n\ndef double(x):\n    return 2 * x\n'))
    assert done.returncode != 0
    assert "All checks passed!" in done.stdout  # ruff passed: mypy failed the gate
    assert re.search(r"server/probe\.py:4: error: .*\[no-untyped-def\]", done.stdout)


def test_ci_runs_the_gate_before_the_suites() -> None:
    script = RUN.read_text()
    gate = script.index("bash .ci/lint")
    assert gate < script.index("run_suite sqlite")
    assert gate < script.index("run_suite postgresql")
    # the tools the gate runs are pinned in the test extras the CI venv installs
    assert 'python -m pip install --quiet -e ".[test,bench]"' in script[:gate]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"ruff>=[\d.]+,<[\d.]+"', pyproject)
    assert re.search(r'"mypy>=[\d.]+,<[\d.]+"', pyproject)
