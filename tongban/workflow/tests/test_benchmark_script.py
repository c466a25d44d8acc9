"""The benchmark command the acceptance checks run: `python benchmarks/workflow.py --instances N` prints a table
and, as its last line, `ratio_vs_spiffworkflow=X.XX`. A tiny run, to keep the script working (not a timing)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_benchmark_prints_the_table_and_the_ratio_last(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TONGBAN_LOG_LEVEL": "ERROR"}
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "workflow.py"), "--instances", "2", "--rounds", "1",
         "--warmup", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert re.fullmatch(r"ratio_vs_spiffworkflow=\d+\.\d\d", lines[-1]), lines[-1]
    assert float(lines[-1].split("=")[1]) > 0
    assert re.fullmatch(r"ratio_vs_spiffworkflow_in_memory=\d+\.\d\d", lines[-2])
    rows = {line.split()[0]: line.split() for line in lines if line.startswith(("tongban ", "SpiffWorkflow "))}
    # both engines completed every instance: 8 transitions each (start, fork, 3 tasks, join, decision, end)
    assert rows["tongban"][1] == "16" and rows["SpiffWorkflow"][1] == "16", out.stdout


def test_benchmark_refuses_bad_arguments():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "workflow.py"), "--instances", "0"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--instances must be at least 1" in out.stderr
