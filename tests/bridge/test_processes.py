"""The bridge's commands as an operator runs them, and worker processes killed mid-job (SIGKILL: no clean-up runs)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from schemas.services import WEBHOOK_PATH
from servers.common.loopback import free_port
from tests.bridge import payloads
from tests.bridge.conftest import SECRET, rig_on
from tests.bridge.standins import ACCOUNT, BOT_TOKEN, SERVICE_TOKEN, StandInChatwoot, StandInOrchestrator

LEVHAOLAM = str(Path(sys.executable).parent / "levhaolam")


def _env(db_url: str, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CHATWOOT_", "LEVHAOLAM_", "DATABASE_URL"))}
    return keep | {"DATABASE_URL": db_url, "COLUMNS": "250"} | extra


def _worker_env(db_url: str, chatwoot_url: str, orchestrator_url: str) -> dict[str, str]:
    return _env(db_url, CHATWOOT_BASE_URL=chatwoot_url, CHATWOOT_API_TOKEN=BOT_TOKEN, CHATWOOT_ACCOUNT_ID=str(ACCOUNT),
                LEVHAOLAM_ORCHESTRATOR_URL=orchestrator_url, LEVHAOLAM_SERVICE_TOKEN=SERVICE_TOKEN,
                LEVHAOLAM_BRIDGE_LEASE_SECONDS="1.5", LEVHAOLAM_BRIDGE_RETRY_BASE_SECONDS="0.1",
                LEVHAOLAM_BRIDGE_WORKER_CONCURRENCY="2")


async def _start_worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(LEVHAOLAM, "serve", "bridge-worker", env=env,
                                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.PIPE)


async def _kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def _until(check, within_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_worker_killed_while_the_orchestrator_thinks_loses_nothing_and_posts_once(migrated_db: str) -> None:
    orchestrator = StandInOrchestrator(hold=asyncio.Event())
    async with rig_on(migrated_db, orchestrator=orchestrator) as rig:
        await rig.deliver(payloads.incoming("Where is my box?", conversation=300, message_id=3000))
        doomed = await _start_worker(_worker_env(migrated_db, rig.chatwoot_url, rig.orchestrator_url))
        await asyncio.wait_for(orchestrator.entered.wait(), 60)  # the worker is mid-job
        [(state,)] = await rig.sql("SELECT state FROM bridge_jobs")
        assert state == "running"
        await _kill(doomed)
        assert orchestrator.hold is not None
        orchestrator.hold.set()  # the orchestrator finishes the turn for nobody, and stores its answer
        # Another worker takes the job once the dead one's lease has run out.
        await rig.drain(rig.worker(), within_s=30)
        assert [m["content"] for m in rig.chatwoot.messages(300)] == ["Hello! How can I help?"]
        assert [r.message_id for r in orchestrator.requests] == ["cw-1-m3000", "cw-1-m3000"]  # the same message
        [(state, attempts, outcome)] = await rig.sql("SELECT state, attempts, outcome FROM bridge_jobs")
        assert (state, attempts, outcome) == ("done", 2, "replied")
        assert rig.chatwoot.violations == []


async def test_a_worker_killed_after_chatwoot_took_the_post_does_not_post_again(migrated_db: str) -> None:
    chatwoot = StandInChatwoot(webhook_secret=SECRET, hold_posts=asyncio.Event())
    async with rig_on(migrated_db, chatwoot=chatwoot) as rig:
        await rig.deliver(payloads.incoming("Where is my box?", conversation=301, message_id=3010))
        doomed = await _start_worker(_worker_env(migrated_db, rig.chatwoot_url, rig.orchestrator_url))

        async def posted() -> bool:
            return len(chatwoot.messages(301)) == 1

        await _until(posted, 60)  # the reply is in Chatwoot; the worker has not heard back yet
        await _kill(doomed)
        assert chatwoot.hold_posts is not None
        chatwoot.hold_posts.set()
        await chatwoot.drain()  # Chatwoot's echo of the bot's message reaches the bridge
        await rig.drain(rig.worker(), within_s=30)
        assert len(chatwoot.messages(301)) == 1  # the echo proved the post landed: not sent again
        [(state, steps, started)] = await rig.sql("SELECT state, steps_done, step_started_at FROM bridge_jobs")
        assert (state, steps, started) == ("done", 1, None)


async def test_a_worker_stops_on_sigterm_and_another_finishes_its_queue(migrated_db: str) -> None:
    async with rig_on(migrated_db) as rig:
        worker = await _start_worker(_worker_env(migrated_db, rig.chatwoot_url, rig.orchestrator_url))
        for n in range(3):
            await rig.deliver(payloads.incoming(f"hi {n}", conversation=310 + n, message_id=3100 + n))

        async def answered() -> bool:
            return len(rig.chatwoot.messages(private=False)) == 3

        await _until(answered, 60)  # woken by NOTIFY, well before the poll
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), 20) == 0
        assert await rig.states() == {"done": 3}


async def test_serve_bridge_takes_webhooks_and_refuses_bad_signatures(migrated_db: str) -> None:
    port = free_port()
    env = _env(migrated_db, CHATWOOT_WEBHOOK_SECRET=SECRET, CHATWOOT_ACCOUNT_ID="1")
    bridge = await asyncio.create_subprocess_exec(LEVHAOLAM, "serve", "bridge", "--port", str(port), env=env,
                                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            async def up() -> bool:
                try:
                    return (await http.get(url + "/healthz")).json() == {"status": "ok"}
                except httpx.HTTPError:
                    return False

            await _until(up, 60)
            unsigned = await http.post(url + WEBHOOK_PATH, json=payloads.incoming())
            assert unsigned.status_code == 401
            assert unsigned.json() == {"code": "forbidden", "field": "X-Chatwoot-Signature",
                                       "message": "the webhook is not signed"}
            page = await http.get(url + "/")
            assert page.status_code == 404 and page.json()["code"] == "not_found"  # the chat page is off by default
    finally:
        bridge.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bridge.wait(), 20)


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LEVHAOLAM, *args], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


async def test_dead_letters_are_listed_with_their_reason_and_replayed(migrated_db: str) -> None:
    async with rig_on(migrated_db) as rig:
        rig.chatwoot.fail_next = [200, 200, 200, 422]
        await rig.deliver(payloads.incoming("Hello", conversation=320, message_id=3200))
        await rig.drain()
        [(job_id,)] = await rig.sql("SELECT id FROM bridge_jobs WHERE state = 'dead'")
        env = _env(migrated_db)
        listed = await asyncio.to_thread(run, "bridge", "dead-letters", env=env)
        assert listed.returncode == 0, listed.stderr
        assert "1 dead letter(s)" in listed.stdout and "Chatwoot answered 422" in listed.stdout
        assert "1/320" in listed.stdout
        refused = await asyncio.to_thread(run, "bridge", "dead-letters", "--replay", "999", env=env)
        assert refused.returncode == 1 and refused.stderr.strip() == "error: not dead letters: 999"
        replayed = await asyncio.to_thread(run, "bridge", "dead-letters", "--replay", str(job_id), env=env)
        assert replayed.returncode == 0 and f"Replayed: {job_id}" in replayed.stdout
        await rig.drain()
        assert len(rig.chatwoot.messages(320)) == 1


def test_the_worker_and_the_chat_page_say_what_they_are_missing(migrated_db: str) -> None:
    worker = run("serve", "bridge-worker", env=_env(migrated_db))
    assert worker.returncode == 1 and "Traceback" not in worker.stderr
    assert worker.stderr.strip().startswith("error: the bridge worker needs CHATWOOT_BASE_URL")
    page = run("serve", "bridge", "--chat-page", env=_env(migrated_db))
    assert page.returncode == 1
    assert page.stderr.strip() == "error: the bridge needs LEVHAOLAM_SERVICE_TOKEN, the orchestrator's service token"


def test_doctor_says_when_no_webhook_secret_is_configured(migrated_db: str) -> None:
    def line(env: dict[str, str]) -> str:
        result = run("doctor", env=env)
        return next(row for row in result.stdout.splitlines() if "webhook secret" in row)

    assert "off" in line(_env(migrated_db)) and "accepts unsigned webhooks" in line(_env(migrated_db))
    with_chatwoot = _env(migrated_db, CHATWOOT_BASE_URL=f"http://127.0.0.1:{free_port()}")
    assert "FAIL" in line(with_chatwoot)
    signed = line(_env(migrated_db, CHATWOOT_WEBHOOK_SECRET=SECRET))
    assert "ok" in signed and SECRET not in signed
