"""The bridge between its stand-in neighbours: the bridge's app on a real uvicorn, a stand-in Chatwoot and a stand-in
orchestrator on real uvicorns too, a migrated private database, and workers made on demand."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool
from starlette.types import ASGIApp

from bridge.app import BridgeConfig, create_app
from bridge.chatwoot import HttpChatwoot
from bridge.dispatch import Handoff
from bridge.turns_client import HttpTurns, TurnsApi
from bridge.webhook import sign
from bridge.worker import Worker, WorkerConfig
from schemas.services import WEBHOOK_PATH
from servers.common.loopback import serve_on_loopback
from store import bridge_jobs as jobs
from tests.bridge.standins import ACCOUNT, BOT_TOKEN, SERVICE_TOKEN, StandInChatwoot, StandInOrchestrator

SECRET = "webhook-secret-" + "w" * 24
TEAM = Handoff(team_id=7)
FAST = WorkerConfig(concurrency=2, max_attempts=6, retry_base_s=0.05, lease_s=2.0, handoff=Handoff(team_id=7),
                    echo_grace_s=1.0, poll_s=0.05)


@dataclass
class Rig:
    bridge_url: str
    chatwoot_url: str
    orchestrator_url: str
    db_url: str
    pool: AsyncConnectionPool
    chatwoot: StandInChatwoot
    orchestrator: StandInOrchestrator
    http: httpx.AsyncClient
    config: WorkerConfig = FAST
    _deliveries: int = 0
    _clients: list[Any] = field(default_factory=list)

    async def deliver(self, payload: dict[str, Any] | bytes, *, delivery: str | None = None,
                      secret: str | None = SECRET, timestamp: int | None = None) -> httpx.Response:
        """POST a webhook the way Chatwoot does: signed, timestamped, with a delivery id."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self._deliveries += 1
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {"Content-Type": "application/json",
                   "X-Chatwoot-Delivery": delivery or f"delivery-{self._deliveries}-{time.monotonic_ns()}",
                   "X-Chatwoot-Timestamp": stamp}
        if secret is not None:
            headers["X-Chatwoot-Signature"] = sign(secret, stamp, body)
        return await self.http.post(self.bridge_url + WEBHOOK_PATH, content=body, headers=headers)

    def worker(self, **overrides: Any) -> Worker:
        chatwoot = HttpChatwoot(self.chatwoot_url, BOT_TOKEN, ACCOUNT, client=self.http)
        turns = HttpTurns(self.orchestrator_url, SERVICE_TOKEN, client=self.http)
        return Worker(self.pool, chatwoot, turns, replace(self.config, **overrides))

    async def drain(self, worker: Worker | None = None, within_s: float = 15.0) -> None:
        """Run a worker until no job is unfinished (jobs waiting for a retry are waited for)."""
        worker = worker or self.worker()
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if await worker.run_once():
                continue
            await self.chatwoot.drain()
            if not await self.unfinished():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"jobs still unfinished after {within_s} s: {await self.states()}")

    async def unfinished(self) -> int:
        counts = await self.states()
        return counts.get("queued", 0) + counts.get("running", 0)

    async def states(self) -> dict[str, int]:
        async with self.pool.connection() as conn:
            return await jobs.counts(conn)

    async def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(query, params)
            return await cur.fetchall()


@contextlib.asynccontextmanager
async def rig_on(db_url: str, *, handoff: Handoff = TEAM, chatwoot: StandInChatwoot | None = None,
                 orchestrator: StandInOrchestrator | None = None, orchestrator_app: ASGIApp | None = None
                 ) -> AsyncIterator[Rig]:
    """`orchestrator_app`: a real orchestrator's app instead of the stand-in."""
    chatwoot = chatwoot or StandInChatwoot(webhook_secret=SECRET)
    orchestrator = orchestrator or StandInOrchestrator()
    async with contextlib.AsyncExitStack() as stack:
        pool = await stack.enter_async_context(AsyncConnectionPool(db_url, min_size=1, max_size=6, open=False))
        # Generous: a real orchestrator's first turn (models loading) on a busy 2-core machine takes seconds.
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        orchestrator_url = await stack.enter_async_context(serve_on_loopback(orchestrator_app or orchestrator.app()))
        chatwoot_url = await stack.enter_async_context(serve_on_loopback(chatwoot.app()))

        @contextlib.asynccontextmanager
        async def bridge_pool() -> AsyncIterator[AsyncConnectionPool]:
            async with AsyncConnectionPool(db_url, min_size=1, max_size=4, open=False) as own:
                yield own

        @contextlib.asynccontextmanager
        async def turns() -> AsyncIterator[TurnsApi]:
            yield HttpTurns(orchestrator_url, SERVICE_TOKEN, client=http)

        app = create_app(BridgeConfig(webhook_secret=SECRET, account_id=ACCOUNT, handoff=handoff), bridge_pool, turns)
        bridge_url = await stack.enter_async_context(serve_on_loopback(app))
        chatwoot.webhook_url = bridge_url + WEBHOOK_PATH
        rig = Rig(bridge_url, chatwoot_url, orchestrator_url, db_url, pool, chatwoot, orchestrator, http,
                  replace(FAST, handoff=handoff))
        yield rig
        await chatwoot.drain()


@pytest.fixture
async def rig(migrated_db: str) -> AsyncIterator[Rig]:
    async with rig_on(migrated_db) as running:
        yield running
