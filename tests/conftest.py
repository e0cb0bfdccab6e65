from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from urllib.parse import urlsplit

import psycopg
import pytest

from store.demo.generator import SeedConfig
from store.demo.loader import seed
from store.migrate import migrate
from tests.pg import scratch_database, test_server

# Tests never talk to real services, whatever the developer's shell holds.
for _name in ("DATABASE_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PINECONE_API_KEY", "LANGFUSE_PUBLIC_KEY",
              "LANGFUSE_SECRET_KEY", "LANGFUSE_HOST", "CHATWOOT_BASE_URL", "CHATWOOT_API_TOKEN"):
    os.environ.pop(_name, None)

AS_OF = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
SMALL = SeedConfig(customers=120, tickets=900, seed=7, as_of=AS_OF)


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
