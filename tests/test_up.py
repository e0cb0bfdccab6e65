"""`levhaolam up` as a person runs it: the whole platform starts, a customer talks through the chat page's API,
a second `up` says the first is running, and SIGTERM leaves nothing running."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

from schemas.services import BRIDGE_PORT, DEFAULT_PORTS, ORCHESTRATOR_PORT

LEVHAOLAM = str(Path(sys.executable).parent / "levhaolam")
PORTS = [*DEFAULT_PORTS.values(), ORCHESTRATOR_PORT, BRIDGE_PORT]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_chat_page(process: subprocess.Popen[str], timeout_s: float = 150) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "levhaolam up exited early"
        try:
            if httpx.get(f"http://127.0.0.1:{BRIDGE_PORT}/healthz", timeout=1).json()["status"] == "ok" and \
                    listening(ORCHESTRATOR_PORT):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("the platform did not come up")


def test_up_runs_the_platform_and_stops_cleanly(knowledge_url: str, tmp_path: Path) -> None:
    assert not any(listening(port) for port in PORTS), "a port of the platform is already taken"
    with psycopg.connect(knowledge_url) as conn:
        row = conn.execute("SELECT c.email FROM customers c JOIN subscriptions s ON s.customer_id = c.id "
                           "WHERE s.status = 'active' ORDER BY c.id LIMIT 1").fetchone()
    assert row is not None
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("CHATWOOT_")}
    env |= {"DATABASE_URL": knowledge_url, "LEVHAOLAM_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen([LEVHAOLAM, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True)
    try:
        wait_for_chat_page(process)
        second = subprocess.run([LEVHAOLAM, "up"], env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "the platform is already running" in second.stderr

        answer = httpx.post(f"http://127.0.0.1:{BRIDGE_PORT}/chat/turns", timeout=60, json={
            "conversation_id": "up-test", "message_id": "1", "text": "please pause my subscription for 2 months",
            "email": row[0]})
        assert answer.status_code == 200, answer.text
        chat = answer.json()
        assert chat["category"] == "pause_subscription" and chat["decision"] == "auto_send"
        assert "Pause subscription" in str(chat["actions"])
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output[-2000:]
    assert "The platform is up" in output and "http://127.0.0.1:8090/" in output and '"mcpServers"' in output
    assert "stopping: services first, then the database" in output
    children = {int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", output)}
    assert len(children) == len(PORTS)
    for pid in children:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"child {pid} is still running")
    assert not any(listening(port) for port in PORTS)
