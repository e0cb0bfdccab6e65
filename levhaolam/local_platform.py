"""The conversation platform in one process, for `levhaolam chat` on a laptop: the database made ready (migrated,
demo data and knowledge on first run), the MCP servers a conversation needs over real HTTP on loopback, and the
orchestrator's pipeline connected to them."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psycopg
from pydantic import SecretStr

from orchestrator.pipeline import Pipeline
from orchestrator.service import running_pipeline
from schemas.services import MCP_PATH, McpServer
from schemas.settings import Settings
from servers.common.loopback import serve_on_loopback
from servers.registry import builder
from store.database import database_url
from store.demo.generator import SeedConfig
from store.demo.loader import existing_data, seed
from store.migrate import migrate

HELP_CENTER = Path(__file__).resolve().parents[1] / "docs" / "help-center"
CONVERSATION_SERVERS = [server for server in McpServer if server is not McpServer.ANALYTICS]


async def prepare_database(settings: Settings, say: Callable[[str], None]) -> None:
    """Migrate; on an empty database seed the demo data and ingest the help center and past answers."""
    url = database_url(settings)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await migrate(conn)
        if not await existing_data(conn):
            say("First run: creating demo data...")
            await seed(conn, SeedConfig())
        row = await (await conn.execute("SELECT count(*) FROM knowledge_chunks")).fetchone()
    if row and row[0]:
        return
    say("First run: loading the help center into the knowledge base (about a minute)...")
    from psycopg_pool import AsyncConnectionPool

    from servers.knowledge.embeddings import embedder_for
    from servers.knowledge.ingest import import_examples, ingest_path
    from servers.knowledge.stores import vector_store_for

    key = settings.openai_api_key
    embedder = embedder_for(key.get_secret_value() if key else None)
    async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False) as pool:
        await ingest_path(pool, vector_store_for(settings), embedder, HELP_CENTER)
        await import_examples(pool, vector_store_for(settings), embedder)


@contextlib.asynccontextmanager
async def local_pipeline(settings: Settings, say: Callable[[str], None] = lambda _: None
                         ) -> AsyncIterator[Pipeline]:
    if settings.jwt_secret is None:
        # Nothing outside this process sees these servers: a throwaway signing secret is enough.
        settings = settings.model_copy(update={"jwt_secret": SecretStr(secrets.token_urlsafe(48))})
    await prepare_database(settings, say)
    async with contextlib.AsyncExitStack() as stack:
        urls: dict[McpServer, str] = {}
        for server in CONVERSATION_SERVERS:
            app = builder(server.value)(settings, transport="http")
            base = await stack.enter_async_context(serve_on_loopback(app.http_app(path=MCP_PATH)))
            urls[server] = f"{base}{MCP_PATH}"
        yield await stack.enter_async_context(running_pipeline(settings, urls=urls))
