"""Where the vectors live: pgvector in the platform's PostgreSQL by default, Pinecone in production.

The passages themselves (text, source, metadata, full-text index) always stay in PostgreSQL, the
system of record; a store only holds and searches vectors, keyed by the passage id.
"""

from __future__ import annotations

from typing import Protocol

import psycopg
from psycopg import sql

from schemas.settings import Settings

# The graph search's candidates: 100 at least (the evaluation questions among 10,000 passages: recall@5 0.86, against
# 0.82 with pgvector's default of 40, for a millisecond more), 400 at most.
MIN_EF_SEARCH = 100
MAX_EF_SEARCH = 400


def as_vector(values: list[float]) -> str:
    return "[" + ",".join(f"{v:.7f}" for v in values) + "]"


class VectorStore(Protocol):
    name: str

    async def upsert(self, conn: psycopg.AsyncConnection, namespace: str, items: list[tuple[int, list[float]]]
                     ) -> None: ...

    async def delete(self, conn: psycopg.AsyncConnection, namespace: str, ids: list[int]) -> None: ...

    async def search(self, conn: psycopg.AsyncConnection, namespace: str, vector: list[float], k: int,
                     language: str | None = None) -> list[tuple[int, float]]:
        """The k nearest passages of the namespace; of one language where the store can tell (filters_language),
        else of every language."""
        ...


class PgVectorStore:
    """Vectors in knowledge_chunks.embedding with an HNSW index (cosine)."""

    name = "pgvector"
    filters_language = True  # the passages' language is a column beside the vector

    async def upsert(self, conn: psycopg.AsyncConnection, namespace: str, items: list[tuple[int, list[float]]]
                     ) -> None:
        async with conn.cursor() as cur:
            await cur.executemany("UPDATE knowledge_chunks SET embedding = %s::vector WHERE id = %s",
                                  [(as_vector(v), i) for i, v in items])

    async def delete(self, conn: psycopg.AsyncConnection, namespace: str, ids: list[int]) -> None:
        return None  # the vectors go with their rows

    @staticmethod
    async def _search(conn: psycopg.AsyncConnection, query: str, params: dict, setting: str, value: str
                      ) -> list[tuple]:
        # One round trip for BEGIN, SET LOCAL, the search and its end (pipeline mode): on a loaded machine each wait
        # for the server costs more than the statement. Always rolled back: inside a caller's transaction this is a
        # savepoint, and a released savepoint keeps its SET LOCAL until the caller's transaction ends; rolled back,
        # the setting dies with it. (Leaked, enable_indexscan = off made every later search of that transaction
        # an exact scan: 45 ms instead of 5 among 10,000 passages, the bench's p95.) The search writes nothing.
        async with conn.pipeline(), conn.transaction(force_rollback=True):
            await conn.execute(sql.SQL("SET LOCAL {} = {}").format(sql.Identifier(*setting.split(".")),
                                                                   sql.Literal(value)))
            cur = await conn.execute(query, params)
        return await cur.fetchall()

    async def search(self, conn: psycopg.AsyncConnection, namespace: str, vector: list[float], k: int,
                     language: str | None = None) -> list[tuple[int, float]]:
        query = ("SELECT id, 1 - (embedding <=> %(v)s::vector) FROM knowledge_chunks "
                 "WHERE namespace = %(ns)s AND (%(lang)s::text IS NULL OR language = %(lang)s) "
                 "AND embedding IS NOT NULL ORDER BY embedding <=> %(v)s::vector LIMIT %(k)s")
        params = {"v": as_vector(vector), "ns": namespace, "lang": language, "k": k}
        # The graph search looks at ef_search candidates, then drops other namespaces' and languages' (pgvector
        # filters after the index). (400 for every search cost ~8 ms at 10,000 passages.)
        rows = await self._search(conn, query, params, "hnsw.ef_search",
                                  str(min(MAX_EF_SEARCH, max(MIN_EF_SEARCH, 2 * k))))
        if len(rows) < k:
            # Other namespaces hold the nearest passages (or this one has fewer than k): an exact scan of this
            # namespace's own rows answers either way.
            rows = await self._search(conn, query, params, "enable_indexscan", "off")
        return [(int(r[0]), float(r[1])) for r in rows]


class PineconeStore:
    """Vectors in a Pinecone index, one Pinecone namespace per knowledge namespace (data plane over REST)."""

    name = "pinecone"
    filters_language = False  # its metadata holds the namespace only: the caller filters

    def __init__(self, api_key: str, host: str) -> None:
        from pinecone.async_client.async_index import AsyncIndex

        self._index = AsyncIndex(host=host, api_key=api_key, timeout=10)

    async def upsert(self, conn: psycopg.AsyncConnection, namespace: str, items: list[tuple[int, list[float]]]
                     ) -> None:
        for start in range(0, len(items), 100):
            batch = items[start:start + 100]
            await self._index.upsert(vectors=[{"id": str(i), "values": v, "metadata": {"namespace": namespace}}
                                              for i, v in batch], namespace=namespace)

    async def delete(self, conn: psycopg.AsyncConnection, namespace: str, ids: list[int]) -> None:
        if ids:
            await self._index.delete(ids=[str(i) for i in ids], namespace=namespace)

    async def search(self, conn: psycopg.AsyncConnection, namespace: str, vector: list[float], k: int,
                     language: str | None = None) -> list[tuple[int, float]]:
        response = await self._index.query(vector=vector, top_k=k, namespace=namespace, include_metadata=False)
        return [(int(match.id), float(match.score)) for match in response.matches]

    async def close(self) -> None:
        close = getattr(self._index, "close", None)
        if close is not None:
            await close()


def vector_store_for(settings: Settings) -> VectorStore:
    """Pinecone when its key and index host are configured, else pgvector in the platform's PostgreSQL."""
    if settings.pinecone_api_key and settings.pinecone_index_host:
        return PineconeStore(settings.pinecone_api_key.get_secret_value(), settings.pinecone_index_host)
    return PgVectorStore()
