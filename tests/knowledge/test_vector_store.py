"""pgvector search settings stay inside the search, even when the caller holds a transaction open."""

from __future__ import annotations

import psycopg

from servers.knowledge.embeddings import LocalMiniLM
from servers.knowledge.stores import PgVectorStore


async def test_a_search_inside_a_transaction_leaves_its_settings_behind(knowledge_url: str,
                                                                         embedder: LocalMiniLM) -> None:
    vector = (await embedder.embed(["do you deliver to Portugal?"]))[0]
    # Not autocommit: the first statement opens a transaction the search runs inside (as with a pooled connection).
    async with await psycopg.AsyncConnection.connect(knowledge_url) as conn:
        settings = "SELECT current_setting('enable_indexscan'), current_setting('hnsw.ef_search')"
        await conn.execute("SELECT '[1]'::vector")  # loads pgvector, which defines hnsw.ef_search
        before = await (await conn.execute(settings)).fetchone()
        # More than the namespace holds: the graph search comes back short and the exact scan runs too.
        hits = await PgVectorStore().search(conn, "shipping", vector, 1000, "en")
        assert hits and conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        after = await (await conn.execute(settings)).fetchone()
    assert after == before
