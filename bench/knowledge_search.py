"""p50/p95 of search_knowledge over streamable HTTP with 10,000 passages (offline model, pgvector).

    .venv/bin/python -m bench.knowledge_search [--passages 10000] [--calls 100]

Starts a throwaway embedded PostgreSQL, ingests the FAQ plus generated passages up to --passages in
one namespace, serves the knowledge server with a real uvicorn and calls search_knowledge with the
retrieval-evaluation questions over one kept-open session. Also reports, from the same run, the p50
of embedding one query and of a hybrid search called in process, so the ratio shows what the
protocol adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from pathlib import Path

import psycopg
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from rich.console import Console
from rich.table import Table

from access.tokens import mint_token
from schemas.settings import Settings
from servers.common.loopback import serve_on_loopback
from servers.knowledge import retrieval
from servers.knowledge.chunking import Chunk
from servers.knowledge.embeddings import LocalMiniLM
from servers.knowledge.ingest import ingest_path
from servers.knowledge.server import build
from servers.knowledge.stores import PgVectorStore
from store.database import throwaway_embedded
from store.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + "k" * 40
WORDS = ("box honey tahini shipping customs delivery pause skip cancel refund photo damage card charge address "
         "Jerusalem Galilee olive oil dates halva spice kosher gift plan premium classic family tracking carrier "
         "courier parcel week month subscription discount credit replacement warehouse label").split()


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


async def _fill(pool: AsyncConnectionPool, embedder: LocalMiniLM, total: int) -> int:
    await ingest_path(pool, PgVectorStore(), embedder, ROOT / "docs" / "help-center")
    async with pool.connection() as conn:
        have = (await (await conn.execute("SELECT count(*) FROM knowledge_chunks")).fetchone())[0]
    rng = random.Random(7)
    missing = max(0, total - have)
    for start in range(0, missing, 500):
        chunks = [Chunk(title=f"Note {start + i}", content=" ".join(rng.choices(WORDS, k=40)), metadata={})
                  for i in range(min(500, missing - start))]
        vectors = await embedder.embed([c.content for c in chunks])
        async with pool.connection() as conn:
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO knowledge_chunks (namespace, source, chunk_index, title, content, content_hash, "
                    "metadata, embedding) VALUES ('faq', 'bench', %s, %s, %s, %s, %s, %s::vector) "
                    "ON CONFLICT DO NOTHING",
                    [(start + i, c.title, c.content, c.content_hash, Jsonb({}), "[" + ",".join(map(str, v)) + "]")
                     for i, (c, v) in enumerate(zip(chunks, vectors, strict=True))])
    async with pool.connection() as conn:
        return (await (await conn.execute("SELECT count(*) FROM knowledge_chunks")).fetchone())[0]


async def run(passages: int, calls: int) -> None:
    questions = [item["q"] for item in json.loads((ROOT / "tests/knowledge/retrieval_eval.json").read_text())]
    embedder = LocalMiniLM()
    with throwaway_embedded(prefix="levhaolam-bench-") as url:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await migrate(conn)
        async with AsyncConnectionPool(url, min_size=1, max_size=4, open=False) as pool:
            stored = await _fill(pool, embedder, passages)
            embed_ms, direct_ms = [], []
            async with pool.connection() as conn:
                for i in range(calls):
                    started = time.perf_counter()
                    await embedder.embed([questions[i % len(questions)]])
                    embed_ms.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    await retrieval.search(conn, PgVectorStore(), embedder, "faq", questions[i % len(questions)], 5)
                    direct_ms.append((time.perf_counter() - started) * 1000)
        settings = Settings(_env_file=None, DATABASE_URL=url, LEVHAOLAM_JWT_SECRET=SECRET)
        app = build(settings, transport="http", embedder=embedder).http_app(path="/mcp")
        token = mint_token(SECRET, subject="bench", scope="staff", tools=["*"])
        http_ms = []
        async with serve_on_loopback(app) as base:
            async with Client(StreamableHttpTransport(f"{base}/mcp",
                                                      headers={"Authorization": f"Bearer {token}"})) as client:
                await client.call_tool("search_knowledge", {"query": "warm-up", "namespace": "faq"})
                for i in range(calls):
                    started = time.perf_counter()
                    await client.call_tool("search_knowledge", {"query": questions[i % len(questions)],
                                                                "namespace": "faq", "k": 5})
                    http_ms.append((time.perf_counter() - started) * 1000)
    table = Table("measure", "p50 ms", "p95 ms", "p50 / embed p50",
                  title=f"search_knowledge, {stored:,} passages, {calls} calls")
    base = statistics.median(embed_ms)
    for name, values in (("embed one query", embed_ms), ("hybrid search in process", direct_ms),
                         ("search_knowledge over HTTP", http_ms)):
        table.add_row(name, f"{statistics.median(values):.1f}", f"{_p(values, 95):.1f}",
                      f"{statistics.median(values) / base:.2f}")
    Console(width=120).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(run(args.passages, args.calls))


if __name__ == "__main__":
    main()
