"""Webhook acknowledgement latency of one bridge process, and proof that no job is lost or duplicated.

    .venv/bin/python -m bench.bridge_webhook [--rate 200] [--seconds 30]

Starts a throwaway embedded PostgreSQL and `levhaolam serve bridge` as its own process (as in production), then
sends signed Chatwoot webhooks on loopback at a fixed rate (open loop: each request leaves at its scheduled time,
whether or not earlier ones were answered). The mix: 90% new customer messages in bot-owned conversations (each must
become exactly one job), 5% redeliveries of earlier messages (Chatwoot's retries: must become nothing), 5% events
that need no answer (a conversation's status changed). The bodies are built from the real v4 capture and signed
before the run, so the load generator does little work while it runs. Reports p50/p90/p99/max of the time from
sending a request to its 200, and checks the jobs table: one job per new message, none for the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from rich.console import Console
from rich.table import Table

from bench.figures import Figure, write_json
from bridge.webhook import sign
from levhaolam import event_loop
from schemas.services import WEBHOOK_PATH
from servers.common.loopback import free_port
from store.database import throwaway_embedded
from store.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "tests" / "fixtures" / "chatwoot-payloads"
SECRET = "bench-webhook-secret-" + "b" * 24
TARGET_P99_MS = 20.0


def _incoming(n: int) -> dict:
    payload = json.loads((CAPTURES / "message_created_incoming_webwidget_v4.json").read_text())
    conversation, message = 1000 + n % 500, 100_000 + n
    payload["id"] = message
    payload["content"] = f"<p>Where is my box? (message {n})</p>\n"
    payload["conversation"]["id"] = conversation
    payload["conversation"]["status"] = "pending"
    inner = payload["conversation"]["messages"][0]
    inner.update(id=message, conversation_id=conversation, content=f"Where is my box? (message {n})")
    return payload


def _status_changed(n: int) -> dict:
    payload = json.loads((CAPTURES / "conversation_status_changed_whatsapp_v3.json").read_text())
    payload["id"] = 1000 + n % 500
    return payload


def _requests(total: int) -> tuple[list[tuple[bytes, dict[str, str], str]], int]:
    """(body, headers, kind) per request, and how many distinct new messages they carry."""
    stamp = str(int(time.time()))
    built: list[tuple[bytes, dict[str, str], str]] = []
    fresh: list[bytes] = []
    for i in range(total):
        if i % 20 == 7 and fresh:
            body, kind = fresh[(i * 7919) % len(fresh)], "redelivery"
        elif i % 20 == 13:
            body, kind = json.dumps(_status_changed(i)).encode(), "no answer needed"
        else:
            body, kind = json.dumps(_incoming(len(fresh))).encode(), "new message"
            fresh.append(body)
        headers = {"Content-Type": "application/json", "X-Chatwoot-Delivery": f"bench-{i}",
                   "X-Chatwoot-Timestamp": stamp, "X-Chatwoot-Signature": sign(SECRET, stamp, body)}
        built.append((body, headers, kind))
    return built, len(fresh)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): what one webhook costs the bridge, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _wait_up(client: httpx.AsyncClient, url: str, process: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        if process.returncode is not None:
            raise SystemExit(f"the bridge exited with {process.returncode}")
        try:
            if (await client.get(url + "/healthz")).json().get("status") == "ok":
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the bridge did not start")


async def _load(url: str, rate: float, seconds: float) -> dict:
    total = int(rate * seconds)
    requests, distinct = _requests(total)
    latencies: list[float] = []
    late: list[float] = []
    outcomes: dict[str, int] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        # Warm up connections and code paths (not timed): the first 20 requests once, under other delivery ids, so
        # that their new messages are taken now and arrive again in the timed run as redeliveries.
        for n, (body, headers, _) in enumerate(requests[:20]):
            await client.post(url + WEBHOOK_PATH, content=body, headers={**headers, "X-Chatwoot-Delivery": f"warm-{n}"})

        async def one(body: bytes, headers: dict[str, str], due: float) -> None:
            late.append(max(0.0, time.perf_counter() - due))
            started = time.perf_counter()
            try:
                answer = await client.post(url + WEBHOOK_PATH, content=body, headers=headers)
                outcome = f"{answer.status_code} {answer.json().get('status')}"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            latencies.append((time.perf_counter() - started) * 1000)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        tasks = []
        start = time.perf_counter()
        for i, (body, headers, _) in enumerate(requests):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, headers, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {"requests": total, "distinct_new_messages": distinct, "seconds": round(elapsed, 2),
            "achieved_rate": round(total / elapsed, 1), "outcomes": outcomes,
            "p50_ms": round(statistics.median(ordered), 2), "p90_ms": round(ordered[int(0.90 * len(ordered))], 2),
            "p99_ms": round(ordered[int(0.99 * len(ordered))], 2), "max_ms": round(ordered[-1], 2),
            "client_lateness_p99_ms": round(sorted(late)[int(0.99 * len(late))] * 1000, 2)}


async def _check_jobs(db_url: str, distinct: int) -> dict:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        row = await (await conn.execute(
            "SELECT count(*), count(DISTINCT dedupe_key), count(*) FILTER (WHERE dedupe_key LIKE 'cw-1-m1%%') "
            "FROM bridge_jobs")).fetchone()
    assert row is not None
    jobs, distinct_keys, bench_jobs = row
    return {"jobs": jobs, "lost": max(0, distinct - bench_jobs), "duplicated": jobs - distinct_keys}


async def main(rate: float, seconds: float, json_path: Path | None = None) -> int:
    console = Console()
    with throwaway_embedded(prefix="levhaolam-bench-bridge-") as db_url:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            await migrate(conn)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATWOOT_", "LEVHAOLAM_"))}
        env |= {"DATABASE_URL": db_url, "CHATWOOT_WEBHOOK_SECRET": SECRET, "CHATWOOT_ACCOUNT_ID": "1"}
        levhaolam = str(Path(sys.executable).parent / "levhaolam")
        bridge = await asyncio.create_subprocess_exec(levhaolam, "serve", "bridge", "--port", str(port), env=env,
                                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                      stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                await _wait_up(client, url, bridge)
            cpu_before = _cpu_seconds(bridge.pid)
            result = await _load(url, rate, seconds)
            result["bridge_cpu_ms_per_request"] = round(
                (_cpu_seconds(bridge.pid) - cpu_before) * 1000 / result["requests"], 2)
        finally:
            bridge.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bridge.wait(), 30)
        result |= await _check_jobs(db_url, result["distinct_new_messages"])
    table = Table("measure", "value", title=f"Bridge webhook acknowledgement, {rate:g} req/s for {seconds:g} s")
    for key, value in result.items():
        table.add_row(key, str(value))
    console.print(table)
    print(json.dumps(result))
    write_json(json_path, [
        Figure("bridge", f"webhook ack p50 at {rate:g} req/s", result["p50_ms"], "ms"),
        Figure("bridge", f"webhook ack p99 at {rate:g} req/s", result["p99_ms"], "ms", TARGET_P99_MS),
        Figure("bridge", "jobs lost", result["lost"], "jobs", 0),
        Figure("bridge", "jobs duplicated", result["duplicated"], "jobs", 0)])
    ok = result["lost"] == 0 and result["duplicated"] == 0 and result["p99_ms"] < TARGET_P99_MS
    console.print(f"target p99 < {TARGET_P99_MS:g} ms, zero lost or duplicated jobs: "
                  f"{'[green]met[/]' if ok else '[red]NOT met[/]'}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path, help="also write the figures here (levhaolam bench reads them)")
    args = parser.parse_args()
    sys.exit(event_loop.run(main(args.rate, args.seconds, args.json)))
