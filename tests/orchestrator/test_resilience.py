"""A server that dies mid-conversation: a short holding reply, a person takes over, nothing is lost, and the
next turn after the server is back works without restarting the orchestrator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg
import uvicorn
from starlette.types import ASGIApp

from orchestrator.service import running_pipeline
from schemas.services import MCP_PATH, McpServer
from schemas.turns import Decision, TurnRequest
from servers.common.loopback import free_port
from servers.knowledge.embeddings import LocalMiniLM
from servers.registry import builder
from tests.helpers import fixed_clock, http_server, settings_for
from tests.orchestrator.conftest import CONVERSATION_SERVERS


@contextlib.asynccontextmanager
async def serve_on(port: int, app: ASGIApp) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_a_dead_server_gets_a_holding_reply_then_the_platform_recovers(knowledge_url: str,
                                                                             embedder: LocalMiniLM) -> None:
    settings = settings_for(knowledge_url)
    port = free_port()
    subscriptions = builder("subscriptions")(settings, transport="http", clock=fixed_clock)
    async with contextlib.AsyncExitStack() as stack:
        urls = {McpServer.SUBSCRIPTIONS: f"http://127.0.0.1:{port}{MCP_PATH}"}
        for server in CONVERSATION_SERVERS:
            if server is not McpServer.SUBSCRIPTIONS:
                extra = {"embedder": embedder} if server is McpServer.KNOWLEDGE else {}
                app = builder(server.value)(settings, transport="http", clock=fixed_clock, **extra)
                urls[server] = await stack.enter_async_context(http_server(app))
        db = await stack.enter_async_context(await psycopg.AsyncConnection.connect(knowledge_url, autocommit=True))
        row = await (await db.execute("SELECT c.email FROM customers c JOIN subscriptions s ON s.customer_id = c.id "
                                      "WHERE s.status = 'active' ORDER BY c.id LIMIT 1")).fetchone()
        assert row is not None
        async with serve_on(port, subscriptions.http_app(path=MCP_PATH)):
            pipeline = await stack.enter_async_context(running_pipeline(settings, urls=urls, clock=fixed_clock))

        def turn(message: str, text: str) -> TurnRequest:
            return TurnRequest(conversation_id="c-down", message_id=message, text=text, contact={"email": row[0]})

        down = await pipeline.run(turn("m1", "please skip my next box"))
        assert down.decision is Decision.ESCALATE and down.reply.startswith("Sorry, something went wrong")
        assert any(reason.startswith("brain:dependency_failed") for reason in down.reasons)
        stored = await (await db.execute("SELECT c.status, t.decision FROM conversations c JOIN turns t ON "
                                         "t.conversation_id = c.id WHERE c.external_id = 'c-down'")).fetchall()
        assert stored == [("handed_off", "escalate")]
        assert (await pipeline.run(turn("m1", "please skip my next box"))).replayed  # a retry: one answer

        async with serve_on(port, builder("subscriptions")(settings, transport="http", clock=fixed_clock
                                                           ).http_app(path=MCP_PATH)):
            back = await pipeline.run(turn("m2", "please skip my next box"))
        assert back.buttons and "Skip the" in back.reply
