"""PineconeStore against a local stand-in of Pinecone's data plane: same results as pgvector, no network."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from servers.common.loopback import serve_on_loopback
from servers.knowledge import retrieval
from servers.knowledge.embeddings import DIMENSIONS
from servers.knowledge.ingest import ingest_path
from servers.knowledge.stores import PgVectorStore, PineconeStore
from tests.helpers import HELP_CENTER as DOCS
from tests.knowledge.pinecone_standin import PineconeStandIn

API_KEY = "pcsk_test_standin_key"
EVAL = json.loads((Path(__file__).parent / "retrieval_eval.json").read_text())


@contextlib.asynccontextmanager
async def standin():
    fake = PineconeStandIn(API_KEY, DIMENSIONS)
    async with serve_on_loopback(fake.app) as host:
        yield fake, host


@pytest.fixture
async def empty_knowledge(admin_url: str, seeded_template: str):
    """Seeded data without knowledge: the Pinecone run ingests from scratch."""
    from tests.pg import scratch_database

    async with scratch_database(admin_url, template=seeded_template) as url:
        async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False) as pool:
            yield pool


async def test_pinecone_store_ingests_searches_and_replaces_like_pgvector(empty_knowledge, kconn, embedder,
                                                                         tmp_path: Path) -> None:
    async with standin() as (fake, host):
        store = PineconeStore(API_KEY, host)
        report = await ingest_path(empty_knowledge, store, embedder, DOCS)
        assert not report.failed
        assert sum(len(v) for v in fake.namespaces.values()) == sum(f.chunks for f in report.files)
        assert set(fake.namespaces) == {"faq", "shipping", "retention", "damage", "payments", "subscription"}

        async with empty_knowledge.connection() as conn:
            embedded = await (await conn.execute("SELECT count(*) FROM knowledge_chunks WHERE embedding IS NOT NULL"
                                                 )).fetchone()
            assert embedded == (0,)  # the vectors live in Pinecone only
            for item in EVAL[:20]:
                via_pinecone = await retrieval.search(conn, store, embedder, item["ns"], item["q"], 5, "vector")
                via_pgvector = await retrieval.search(kconn, PgVectorStore(), embedder, item["ns"], item["q"], 5,
                                                      "vector")
                assert [p.title for p in via_pinecone] == [p.title for p in via_pgvector]

        doc = tmp_path / "notice.md"
        doc.write_text("---\nnamespace: shipping\n---\n## Strike\nIsrael Post is on strike this week.\n")
        await ingest_path(empty_knowledge, store, embedder, doc)
        before = len(fake.namespaces["shipping"])
        doc.write_text("---\nnamespace: shipping\n---\n## Strike over\nIsrael Post works normally again.\n")
        await ingest_path(empty_knowledge, store, embedder, doc)
        assert len(fake.namespaces["shipping"]) == before  # the old vector was deleted, the new one added
        assert any(path == "/vectors/delete" for path, _ in fake.requests)


async def test_a_wrong_pinecone_key_fails_the_ingest_and_writes_nothing(empty_knowledge, embedder) -> None:
    async with standin() as (fake, host):
        store = PineconeStore("wrong-key", host)
        with pytest.raises(Exception, match="(?i)api key|unauthori"):
            await ingest_path(empty_knowledge, store, embedder, DOCS / "faq.md")
        async with empty_knowledge.connection() as conn:
            assert await (await conn.execute("SELECT count(*) FROM knowledge_chunks")).fetchone() == (0,)
        assert not fake.namespaces
