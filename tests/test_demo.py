"""`kindred demo`, the README's one command, as a newcomer runs it: a fresh folder, no
configuration. It must serve the simulator, answer a text through the worker, and leave no
process behind when stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.doubles.servers import free_port


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until `condition` returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"condition not met within {timeout}s")


def post_json(url: str, payload: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


def test_kindred_demo_runs_web_worker_and_simulator(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "SECRET_KEY")}
    env["KINDRED_INSTANCE"] = str(tmp_path / "instance")
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: healthy(base) or demo.poll() is not None)
        assert demo.poll() is None, (tmp_path / "demo.log").read_text()

        post_json(base + "/simulator/send", {"phone": "+15555550100", "body": "hi"})

        def answered() -> list[dict[str, str]]:
            thread = post_json(base + "/simulator/thread", {"phone": "+15555550100"})["messages"]
            return [m for m in thread if m["direction"] == "outbound" and m["status"] == "delivered"]

        (reply,) = wait_for(answered)
        assert "Reply YES to join" in reply["body"]

        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=20) == 0
        survivors = subprocess.run(
            ["pgrep", "-s", str(demo.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert survivors == [], "the demo left processes running"
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
        else:
            subprocess.run(["pkill", "-KILL", "-s", str(demo.pid)], check=False)
        log.close()
    output = (tmp_path / "demo.log").read_text()
    assert "+15555550100" not in output, "a full phone number reached the log"
