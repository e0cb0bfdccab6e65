"""Orchestrator overhead per turn, without any model: the offline router and brain, three MCP calls over HTTP.

    .venv/bin/python -m bench.orchestrator_turn [--turns 60]

Starts a throwaway embedded PostgreSQL with the default demo data and the conversation MCP servers as their own
processes on loopback (as in production),
then runs first turns of new conversations: "please pause my subscription for 2 months" from a customer whose
e-mail the contact carries: it routes, identifies (identify_customer), reads (list_subscriptions) and proposes
(pause_subscription, its confirmation phase), persisting the conversation, turn and pending action. Reports:
- the offline router alone (target < 10 ms);
- a whole turn on pooled connections (target < 25 ms), and beside it a loopback round trip to PostgreSQL timed after
  each turn: how fast the host was during the run (on this VM 0.05 ms when quiet, 2-3x that in its slow spells);
- a whole turn that reconnects to its servers every time, and the ratio of the two (why connections are pooled);
- 8 concurrent conversations with one connection per server versus the default pool, as a throughput ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psycopg
from rich.console import Console
from rich.table import Table

from bench.figures import Figure, percentile, write_json
from levhaolam import event_loop
from orchestrator.pipeline import Pipeline
from orchestrator.router import OfflineRouting
from orchestrator.service import running_pipeline
from schemas.services import MCP_PATH, McpServer
from schemas.settings import Settings
from schemas.turns import TurnRequest
from servers.common.loopback import free_port
from store.database import throwaway_embedded
from store.demo.generator import SeedConfig
from store.demo.loader import seed
from store.migrate import migrate

SECRET = "bench-secret-" + "b" * 40
MESSAGE = "please pause my subscription for 2 months"


@contextlib.asynccontextmanager
async def server_processes(database_url: str) -> AsyncIterator[dict[McpServer, str]]:
    """Each conversation MCP server as a `levhaolam serve NAME --transport http` child on a free port."""
    env = {**os.environ, "DATABASE_URL": database_url, "LEVHAOLAM_JWT_SECRET": SECRET}
    command = str(Path(sys.executable).parent / "levhaolam")
    children: list[asyncio.subprocess.Process] = []
    urls: dict[McpServer, str] = {}
    try:
        for server in McpServer:
            if server is McpServer.ANALYTICS:
                continue
            port = free_port()
            children.append(await asyncio.create_subprocess_exec(
                command, "serve", server.value, "--transport", "http", "--port", str(port), env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL))
            urls[server] = f"http://127.0.0.1:{port}{MCP_PATH}"
        async with httpx.AsyncClient() as client:
            for server_url in urls.values():
                for _ in range(600):
                    try:
                        await client.get(server_url, timeout=1)
                        break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
        yield urls
    finally:
        for child in children:
            child.terminate()
        await asyncio.gather(*(child.wait() for child in children))


async def _emails(url: str, count: int) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = await (await conn.execute(
            "SELECT c.email FROM customers c JOIN subscriptions s ON s.customer_id = c.id WHERE s.status = 'active' "
            "ORDER BY c.id LIMIT %s", (count,))).fetchall()
    return [row[0] for row in rows]


async def _turn(pipeline: Pipeline, email: str) -> float:
    request = TurnRequest(conversation_id=f"bench-{uuid.uuid4().hex[:12]}", message_id="1", text=MESSAGE,
                          contact={"email": email})
    started = time.perf_counter()
    response = await pipeline.run(request)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.buttons, response.reply  # the proposal was made: all three calls happened
    return elapsed


async def run(turns: int, json_path: Path | None = None, scale: int = 1) -> None:
    console = Console(width=140)
    os.environ.pop("DATABASE_URL", None)
    router = OfflineRouting()
    await router.warm()
    route_ms = []
    for _ in range(200):
        started = time.perf_counter()
        await router.route(MESSAGE)
        route_ms.append((time.perf_counter() - started) * 1000)

    with throwaway_embedded(prefix="levhaolam-bench-") as url:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await migrate(conn)
            base = SeedConfig()
            await seed(conn, SeedConfig(customers=base.customers * scale, tickets=base.tickets * scale))
        settings = Settings(_env_file=None, DATABASE_URL=url, LEVHAOLAM_JWT_SECRET=SECRET)
        emails = await _emails(url, turns * 2 + 40)
        async with contextlib.AsyncExitStack() as stack:
            # The servers run as their own processes, as in production: their CPU is not the orchestrator's.
            urls = await stack.enter_async_context(server_processes(url))
            pooled = await stack.enter_async_context(running_pipeline(settings, urls=urls, router=router))
            single = await stack.enter_async_context(running_pipeline(settings, urls=urls, router=router,
                                                                      per_server=1))
            throughput = {}
            for label, pipeline in (("1 connection per server", single), ("pool of 4 per server", pooled)):
                # Warm every connection of the pool first: connecting is not what this compares.
                await asyncio.gather(*(_turn(pipeline, emails.pop()) for _ in range(8)))
                batch = [emails.pop() for _ in range(8)]
                started = time.perf_counter()
                await asyncio.gather(*(_turn(pipeline, email) for email in batch))
                throughput[label] = 8 / (time.perf_counter() - started)
            # How fast the host is right now (this VM's speed drifts): a loopback round trip to PostgreSQL after each
            # turn, reported beside the turn's figure.
            pooled_ms, round_trip_ms = [], []
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as probe:
                for _ in range(turns):
                    pooled_ms.append(await _turn(pooled, emails.pop()))
                    started = time.perf_counter()
                    await probe.execute("SELECT 1")
                    round_trip_ms.append((time.perf_counter() - started) * 1000)
            reconnect_ms = []
            for _ in range(turns):
                await pooled.connections.close()  # the next lease connects again, as a per-turn client would
                reconnect_ms.append(await _turn(pooled, emails.pop()))

    table = Table("measure", "p50 ms", "p95 ms", "target", title=f"Orchestrator turn, offline ({turns} turns)")
    table.add_row("offline router, one message", f"{statistics.median(route_ms):.2f}",
                  f"{percentile(route_ms, 95):.2f}", "< 10 ms")
    table.add_row("turn, pooled connections (3 MCP calls)", f"{statistics.median(pooled_ms):.1f}",
                  f"{percentile(pooled_ms, 95):.1f}", "< 25 ms")
    table.add_row("host: loopback round trip to PostgreSQL", f"{statistics.median(round_trip_ms):.3f}",
                  f"{percentile(round_trip_ms, 95):.3f}", "")
    table.add_row("turn, reconnecting every turn", f"{statistics.median(reconnect_ms):.1f}",
                  f"{percentile(reconnect_ms, 95):.1f}", "")
    console.print(table)
    ratio = statistics.median(reconnect_ms) / statistics.median(pooled_ms)
    console.print(f"Reconnecting per turn costs {ratio:.2f}x a pooled turn.")
    (slow, slow_tps), (fast, fast_tps) = throughput.items()
    console.print(f"8 concurrent conversations: {slow} {slow_tps:.0f} turns/s, {fast} {fast_tps:.0f} turns/s "
                  f"({fast_tps / slow_tps:.2f}x).")
    write_json(json_path, [
        Figure("orchestrator", "offline router, p50", statistics.median(route_ms), "ms", 10, scale=f"{scale}x"),
        Figure("orchestrator", "turn with 3 MCP calls, p50", statistics.median(pooled_ms), "ms", 25, scale=f"{scale}x"),
        Figure("orchestrator", "turn with 3 MCP calls, p95", percentile(pooled_ms, 95), "ms", scale=f"{scale}x"),
        Figure("orchestrator", "host: loopback round trip to PostgreSQL, p50", statistics.median(round_trip_ms), "ms",
               scale=f"{scale}x"),
        Figure("orchestrator", "reconnecting per turn vs pooled", ratio, "x", scale=f"{scale}x"),
        Figure("orchestrator", "8 concurrent turns: pool of 4 vs 1 connection", fast_tps / slow_tps, "x",
               lower_is_better=False, scale=f"{scale}x")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--json", type=Path, help="also write the figures here (levhaolam bench reads them)")
    parser.add_argument("--scale", type=int, default=1, help="demo data size: N times the default seed")
    args = parser.parse_args()
    event_loop.run(run(args.turns, args.json, args.scale))


if __name__ == "__main__":
    main()
