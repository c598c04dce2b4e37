"""The README's first command runs: the demo library and a patron session against it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_demo_script_runs_a_patron_session_against_the_demo_library():
    env = {**os.environ, "BIN": str(Path(sys.executable).parent), "LIBCLI_LANG": "en"}
    result = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "100000001" in out  # the demo cards are printed
    assert "T0008" in out and "津軽" in out  # reserved from the favorites
    assert "on_shelf" in out or "shelf" in out.lower()  # a refusal is shown (R8)
    assert "Traceback" not in out + result.stderr
