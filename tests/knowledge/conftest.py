from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from servers.knowledge.embeddings import LocalMiniLM
from servers.knowledge.ingest import import_examples, ingest_path
from servers.knowledge.stores import PgVectorStore
from tests.helpers import HELP_CENTER as DOCS
from tests.pg import scratch_database


@pytest.fixture(scope="session")
def embedder() -> LocalMiniLM:
    return LocalMiniLM()


@pytest.fixture(scope="session")
async def knowledge_template(admin_url: str, seeded_template: str, embedder: LocalMiniLM) -> AsyncIterator[str]:
    """The seeded demo data plus the FAQ and the few-shot examples, embedded once per session."""
    async with scratch_database(admin_url, template=seeded_template) as url:
        async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False) as pool:
            report = await ingest_path(pool, PgVectorStore(), embedder, DOCS)
            assert not report.failed, report.failed
            await import_examples(pool, PgVectorStore(), embedder)
        yield urlsplit(url).path.lstrip("/")


@pytest.fixture
async def knowledge_url(admin_url: str, knowledge_template: str) -> AsyncIterator[str]:
    async with scratch_database(admin_url, template=knowledge_template) as url:
        yield url


@pytest.fixture
async def kconn(knowledge_url: str) -> AsyncIterator[psycopg.AsyncConnection]:
    async with await psycopg.AsyncConnection.connect(knowledge_url, autocommit=True) as conn:
        yield conn
