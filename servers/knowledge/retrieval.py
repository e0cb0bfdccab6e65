"""Hybrid retrieval: full-text search and vector search, fused by reciprocal rank.

Small embedding models miss exact tokens (order numbers, product and country names); full-text
search misses paraphrases. Reciprocal rank fusion needs no score calibration between the two.
"""

from __future__ import annotations

from typing import Literal

import psycopg
from psycopg.rows import dict_row

from schemas.knowledge import Passage
from servers.knowledge.embeddings import Embedder
from servers.knowledge.stores import VectorStore

Mode = Literal["hybrid", "vector", "text"]
RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of the very top ranks
TEXT_WEIGHT = 0.3  # full text matches any word of a question, so it is noisier; 0.3 measured best on the eval set


# The query's words become lexemes as the passages' did (to_tsvector 'english'), then an OR of them. Each lexeme
# reaches to_tsquery inside quotes (backslashes and quotes doubled), where nothing is an operator: the URL lexeme
# "/wiki/special:search" is text, not a word with a weight, and "!", "&", "<->", ":*" are plain characters.
# Quoting changes nothing else, so ordinary questions rank exactly as before. Without any word the query is NULL,
# which matches nothing.
_OR_OF_LEXEMES = (
    r"SELECT to_tsquery('english', string_agg('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''', "
    "' | ')) AS q FROM unnest(tsvector_to_array(to_tsvector('english', %(q)s))) AS lexeme"
)


async def text_search(conn: psycopg.AsyncConnection, namespace: str, query: str, k: int) -> list[tuple[int, float]]:
    # Any of the query's words may match (OR), ranked by cover density: questions rarely share every word.
    cur = await conn.execute(
        f"WITH q AS ({_OR_OF_LEXEMES}) "
        "SELECT c.id, ts_rank(c.tsv, q.q, 1) AS rank FROM knowledge_chunks c, q "
        "WHERE c.namespace = %(ns)s AND c.tsv @@ q.q ORDER BY rank DESC, c.id LIMIT %(k)s",
        {"q": query, "ns": namespace, "k": k})
    return [(int(r[0]), float(r[1])) for r in await cur.fetchall()]


async def search(conn: psycopg.AsyncConnection, store: VectorStore, embedder: Embedder, namespace: str, query: str,
                 k: int, mode: Mode = "hybrid", text_weight: float = TEXT_WEIGHT) -> list[Passage]:
    candidates = max(20, 4 * k)
    vector_hits: list[tuple[int, float]] = []
    text_hits: list[tuple[int, float]] = []
    if mode in ("hybrid", "vector"):
        vector_hits = await store.search(conn, namespace, (await embedder.embed([query]))[0], candidates)
    if mode in ("hybrid", "text"):
        text_hits = await text_search(conn, namespace, query, candidates)
    vector_rank = {cid: rank for rank, (cid, _) in enumerate(vector_hits, start=1)}
    text_rank = {cid: rank for rank, (cid, _) in enumerate(text_hits, start=1)}
    weighted = ((vector_rank, 1.0), (text_rank, text_weight if mode == "hybrid" else 1.0))
    fused = {cid: sum(weight / (RRF_K + ranks[cid]) for ranks, weight in weighted if cid in ranks)
             for cid in vector_rank.keys() | text_rank.keys()}
    best = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
    if not best:
        return []
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT id, namespace, source, title, content FROM knowledge_chunks WHERE id = ANY(%s)",
                      (best,))
    rows = {r["id"]: r for r in await cur.fetchall()}
    return [Passage(id=cid, namespace=rows[cid]["namespace"], source=rows[cid]["source"], title=rows[cid]["title"],
                    content=rows[cid]["content"], score=round(fused[cid], 6), vector_rank=vector_rank.get(cid),
                    text_rank=text_rank.get(cid)) for cid in best if cid in rows]
