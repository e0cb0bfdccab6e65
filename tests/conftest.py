from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from fastmcp import Client, FastMCP
from psycopg_pool import AsyncConnectionPool

from servers.common.principal import Principal
from servers.knowledge.embeddings import LocalMiniLM
from servers.knowledge.ingest import import_examples, ingest_path
from servers.knowledge.stores import PgVectorStore
from servers.registry import builder
from store.demo.loader import seed
from store.migrate import migrate
from tests.helpers import HELP_CENTER, SMALL, fixed_clock, memory_client, settings_for
from tests.pg import scratch_database, test_server

# Tests never talk to real services, whatever the developer's shell holds.
for _name in ("DATABASE_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PINECONE_API_KEY", "LANGFUSE_PUBLIC_KEY",
              "LANGFUSE_SECRET_KEY", "LANGFUSE_HOST", "CHATWOOT_BASE_URL", "CHATWOOT_API_TOKEN"):
    os.environ.pop(_name, None)

@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    with test_server() as url:
        yield url


@pytest.fixture
async def empty_db(admin_url: str) -> AsyncIterator[str]:
    """A new, empty database (no migrations)."""
    async with scratch_database(admin_url) as url:
        yield url


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@pytest.fixture(scope="session")
async def migrated_template(admin_url: str) -> AsyncIterator[str]:
    """A migrated database that tests copy (CREATE DATABASE ... TEMPLATE) instead of migrating each time."""
    async with scratch_database(admin_url) as url:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
            await migrate(connection)
        yield _name(url)


@pytest.fixture(scope="session")
async def seeded_template(admin_url: str, migrated_template: str) -> AsyncIterator[str]:
    """The migrated template plus the small demo data; never connected to while tests copy it."""
    async with scratch_database(admin_url, template=migrated_template) as url:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
            await seed(connection, SMALL)
        yield _name(url)


@pytest.fixture
async def migrated_db(admin_url: str, migrated_template: str) -> AsyncIterator[str]:
    async with scratch_database(admin_url, template=migrated_template) as url:
        yield url


@pytest.fixture
async def conn(migrated_db: str) -> AsyncIterator[psycopg.AsyncConnection]:
    async with await psycopg.AsyncConnection.connect(migrated_db, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="session")
async def seeded_db(admin_url: str, seeded_template: str) -> AsyncIterator[str]:
    """The small demo data, shared read-only by the tests of a session."""
    async with scratch_database(admin_url, template=seeded_template) as url:
        yield url


@pytest.fixture
async def seeded(seeded_db: str) -> AsyncIterator[psycopg.AsyncConnection]:
    async with await psycopg.AsyncConnection.connect(seeded_db, autocommit=True) as connection:
        yield connection


@pytest.fixture
async def db_url(admin_url: str, seeded_template: str) -> AsyncIterator[str]:
    """A private copy of the seeded database: the test may change it freely."""
    async with scratch_database(admin_url, template=seeded_template) as url:
        yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[psycopg.AsyncConnection]:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as connection:
        yield connection


ServerFactory = Callable[..., FastMCP]


@pytest.fixture
def make_server(db_url: str) -> ServerFactory:
    """Build a server by name on the test's private database, in memory, with the fixed clock."""

    def make(name: str, *, principal: Principal | None = None, clock=fixed_clock, **settings: Any) -> FastMCP:
        return builder(name)(settings_for(db_url, **settings), transport="memory", clock=clock,
                             local_principal=principal)

    return make


@pytest.fixture
async def client(make_server: ServerFactory, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    """An in-memory client of the server the test module names in `SERVER`."""
    async with memory_client(make_server(request.module.SERVER)) as connected:
        yield connected


@pytest.fixture(scope="session")
def embedder() -> LocalMiniLM:
    return LocalMiniLM()


@pytest.fixture(scope="session")
async def knowledge_template(admin_url: str, seeded_template: str, embedder: LocalMiniLM) -> AsyncIterator[str]:
    """The seeded demo data plus the FAQ and the few-shot examples, embedded once per session."""
    async with scratch_database(admin_url, template=seeded_template) as url:
        async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False) as pool:
            report = await ingest_path(pool, PgVectorStore(), embedder, HELP_CENTER)
            assert not report.failed, report.failed
            await import_examples(pool, PgVectorStore(), embedder)
        yield urlsplit(url).path.lstrip("/")


@pytest.fixture
async def knowledge_url(admin_url: str, knowledge_template: str) -> AsyncIterator[str]:
    async with scratch_database(admin_url, template=knowledge_template) as url:
        yield url
