"""A big load into pgvector builds the vector index once, after the rows, instead of growing it row by row.

pgvector inserted 10,000 passages into the HNSW graph in ~33 s of the database's CPU (each insert searches the graph
and rewrites its neighbours' pages) and builds the graph of the same 10,000 in ~3 s; on two shared cores those 33 s
were also taken from the embedding model. While the index is gone, searches scan the table exactly: the results stay
right (better, if anything), only slower, which is why only a load that adds a good share of the table does this.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from psycopg_pool import AsyncConnectionPool

from servers.knowledge.stores import PgVectorStore, VectorStore

# Rebuilding costs ~0.3 ms per passage in the table, inserting ~3.3 ms per passage added: from a quarter of the
# table up, the rebuild wins several times over; below a thousand passages the difference is a few seconds.
BULK_MIN_PASSAGES = 1000
BULK_MIN_SHARE = 0.25


@contextlib.asynccontextmanager
async def vector_index_after_load(pool: AsyncConnectionPool, store: VectorStore, adding: int
                                  ) -> AsyncIterator[bool]:
    """Around a load of `adding` passages: whether the index is dropped now and built again at the end. Either way
    a missing index (an earlier bulk load that was killed) is built first (migration 0018)."""
    if not isinstance(store, PgVectorStore):  # the vectors live elsewhere
        yield False
        return
    async with pool.connection() as conn:
        await conn.execute("SELECT knowledge_embedding_index_ensure()")
        row = await (await conn.execute("SELECT count(*) FROM knowledge_chunks")).fetchone()
        held = row[0] if row else 0
        bulk = adding >= BULK_MIN_PASSAGES and adding >= BULK_MIN_SHARE * held
        if bulk:
            await conn.execute("DROP INDEX IF EXISTS knowledge_chunks_embedding_idx")
    try:
        yield bulk
    finally:
        if bulk:
            async with pool.connection() as conn:
                await conn.execute("SELECT knowledge_embedding_index_ensure()")
                # The planner's row counts and word statistics describe the table before the load until autovacuum
                # gets to it; the first searches after a load should not be planned on those.
                await conn.execute("ANALYZE knowledge_chunks, knowledge_lexemes")
