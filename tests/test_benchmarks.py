"""The delivery benchmarks still run as the README runs them (`python -m bench.inbound`,
`python -m bench.outbound`), in their smoke versions: a few seconds each, to keep the scripts
working, not to judge speed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(module: str) -> str:
    finished = subprocess.run(
        [sys.executable, "-m", module, "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, (
        f"{module} exited {finished.returncode}:\n{finished.stdout}\n{finished.stderr}"
    )
    return finished.stdout


def test_the_inbound_benchmark_compares_kindred_with_a_bare_route_and_one_that_only_stores() -> None:
    report = run("bench.inbound")

    share = re.search(r"Kindred / baseline: ([\d.]+)%", report)
    assert share and 0 < float(share.group(1)) <= 100, report
    storing = re.search(
        r"storing one row / baseline: ([\d.]+)%; Kindred / storing one row: ([\d.]+)%", report
    )
    assert storing and 0 < float(storing.group(1)) <= 100 and float(storing.group(2)) > 0, report
    assert re.search(r"p99 at ~half saturation: [\d.]+ ms", report), report
    answered = re.search(r"one worker answered (\d+) texts in [\d.]+ s", report)
    assert answered and int(answered.group(1)) > 0, report  # the texts the webhook took, answered
    assert re.search(r"largest web process after \d+ texts: \d+ MB", report), report


def test_the_outbound_benchmark_sends_every_text_once_and_measures_the_rate() -> None:
    report = run("bench.outbound")

    rows = re.findall(r"one worker, SMS_SENDER_MPS=\S+\s+(\d+)\s+[\d.]+\s+(\d+)\s+(\d+)", report)
    assert rows == [("10", "0", "0"), ("10", "0", "0"), ("5", "0", "0")], report
    assert re.search(r"the worker's own pace: [\d.]+/s", report), report
    assert re.search(r"a configured 225/s was kept to [+-][\d.]+%", report), report
    assert re.search(r"a configured 2/s was kept to [+-][\d.]+%", report), report
