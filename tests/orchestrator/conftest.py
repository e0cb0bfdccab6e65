"""The whole platform for conversation tests: the six MCP servers over real HTTP on a private copy of the seeded
database (with the knowledge ingested), and the orchestrator's pipeline connected to them."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from orchestrator.brain import Brain
from orchestrator.pipeline import Pipeline
from orchestrator.service import running_pipeline
from schemas.categories import Category
from schemas.services import McpServer
from schemas.turns import TurnRequest, TurnResponse
from servers.knowledge.embeddings import LocalMiniLM
from servers.registry import builder
from tests.helpers import fixed_clock, http_server, settings_for


@dataclass
class Platform:
    pipeline: Pipeline
    urls: dict[McpServer, str]
    db: psycopg.AsyncConnection
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, conversation: str, text: str | None = None, *, button: str | None = None,
                   email: str | None = None, message_id: str | None = None, **extra: Any) -> TurnResponse:
        contact = extra.pop("contact", {"email": email})
        request = TurnRequest(conversation_id=conversation, message_id=message_id or f"m{next(self._ids)}",
                              text=text, button_value=button, contact=contact, **extra)
        return await self.pipeline.run(request)

    async def customer(self, offset: int = 0, *, frequency: str = "monthly") -> dict[str, Any]:
        """A customer with an active subscription and a delivered box (the demo data has many)."""
        row = await (await self.db.execute(
            "SELECT c.id, c.email, s.id FROM customers c JOIN subscriptions s ON s.customer_id = c.id "
            "WHERE s.status = 'active' AND s.frequency = %s AND EXISTS (SELECT 1 FROM orders o JOIN shipments sh "
            "ON sh.order_id = o.id WHERE o.customer_id = c.id AND sh.status = 'delivered' "
            "AND sh.delivered_at > '2026-11-20') "
            "AND (SELECT count(*) FROM subscriptions x WHERE x.customer_id = c.id) = 1 "
            "ORDER BY c.id OFFSET %s LIMIT 1", (frequency, offset))).fetchone()
        assert row is not None
        return {"id": row[0], "email": row[1], "subscription": row[2]}


# The servers a conversation may reach (analytics serves staff and the analytics agent, not customers).
CONVERSATION_SERVERS = [server for server in McpServer if server is not McpServer.ANALYTICS]
async def delivered_items(db: psycopg.AsyncConnection, customer_id: int) -> list[str]:
    """Product names of the customer's latest delivered box."""
    rows = await (await db.execute(
        "SELECT p.name FROM orders o JOIN shipments sh ON sh.order_id = o.id JOIN order_items i ON i.order_id = o.id "
        "JOIN products p ON p.sku = i.sku WHERE o.customer_id = %s AND sh.status = 'delivered' "
        "AND o.id = (SELECT max(o2.id) FROM orders o2 JOIN shipments s2 ON s2.order_id = o2.id "
        "WHERE o2.customer_id = %s AND s2.status = 'delivered') ORDER BY p.name",
        (customer_id, customer_id))).fetchall()
    return [row[0] for row in rows]


BrainFactory = Callable[[Category, dict[str, Any]], Brain]


@contextlib.asynccontextmanager
async def platform_on(db_url: str, embedder: LocalMiniLM, **pipeline_options: Any) -> AsyncIterator[Platform]:
    settings = settings_for(db_url)
    async with contextlib.AsyncExitStack() as stack:
        urls: dict[McpServer, str] = {}
        for server in CONVERSATION_SERVERS:
            extra = {"embedder": embedder} if server is McpServer.KNOWLEDGE else {}
            app = builder(server.value)(settings, transport="http", clock=fixed_clock, **extra)
            urls[server] = await stack.enter_async_context(http_server(app))
        pipeline = await stack.enter_async_context(running_pipeline(settings, urls=urls, clock=fixed_clock,
                                                                    **pipeline_options))
        db = await stack.enter_async_context(await psycopg.AsyncConnection.connect(db_url, autocommit=True))
        yield Platform(pipeline, urls, db)


@pytest.fixture
async def platform(knowledge_url: str, embedder: LocalMiniLM) -> AsyncIterator[Platform]:
    async with platform_on(knowledge_url, embedder) as running:
        yield running
