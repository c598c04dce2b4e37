"""The README's first command runs: the demo library and a patron session against it."""

from __future__ import annotations

import os
import re
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
    # From the favorites, 津軽 is reserved and the three others are refused, each for its
    # own reason: on the shelf (R8), reference only, a magazine (R4).
    reserved = re.search(r"^(\d+)\tT0008\t津軽\treserved \(queue position 1\)$", out, re.M)
    assert reserved, out
    refused = re.findall(r"^-\t(\w+)\t.*\tNot reserved\. (.+)$", out, re.M)
    assert [code for code, _reason in refused] == ["T0001", "T0048", "M0002"], out
    assert len({reason for _code, reason in refused}) == 3
    assert "A copy is on the shelf" in refused[0][1]
    assert "\n(exit 5)\n" in out  # exit_codes.REFUSED: some titles were refused
    assert f"Cancelled reservation {reserved.group(1)}." in out
    assert "Traceback" not in out + result.stderr
