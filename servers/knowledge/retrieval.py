"""Hybrid retrieval: full-text search and vector search, fused by reciprocal rank.

Small embedding models miss exact tokens (order numbers, product and country names); full-text
search misses paraphrases. Reciprocal rank fusion needs no score calibration between the two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

import psycopg
from psycopg.rows import dict_row

from schemas.knowledge import Passage
from schemas.languages import DEFAULT_LANGUAGE, LANGUAGES
from servers.knowledge.embeddings import Embedder
from servers.knowledge.rare_terms import CANDIDATE_BUDGET, rarer_lexemes
from servers.knowledge.stores import VectorStore

Mode = Literal["hybrid", "vector", "text"]
RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of the very top ranks
TEXT_WEIGHT = 0.3  # full text matches any word of a question, so it is noisier; 0.3 measured best on the eval set
# Where the embedding model does not know the language (MiniLM outside English), its ranking is the weak evidence
# and the language's own full text (stemmed by its configuration) the strong one: the weights swap.
FOREIGN_VECTOR_WEIGHT = TEXT_WEIGHT


# The query's words become lexemes as the passages' did (to_tsvector with the language's configuration, migration
# 0014: English when no language is given), then an OR of them. Each lexeme
# reaches to_tsquery inside quotes (backslashes and quotes doubled), where nothing is an operator: the URL lexeme
# "/wiki/special:search" is text, not a word with a weight, and "!", "&", "<->", ":*" are plain characters.
# Quoting changes nothing else, so ordinary questions rank exactly as before. Without any word the query is NULL,
# which matches nothing. Only the question's rarer words are ranked (servers/knowledge/rare_terms.py).
_OR_OF_LEXEMES = (
    r"SELECT to_tsquery(knowledge_ts_config(%(lang)s), string_agg('''' || replace(replace(lexeme, '\', '\\'), "
    r"'''', '''''') || '''', ' | ')) AS q "
    "FROM (" + rarer_lexemes("knowledge_ts_config(%(lang)s)") + ") AS rarer"
)


def _namespaces(namespace: str | Sequence[str]) -> list[str]:
    return [namespace] if isinstance(namespace, str) else list(namespace)


async def _other_languages(conn: psycopg.AsyncConnection, namespaces: list[str], language: str) -> bool:
    # Two index range probes (namespace, language), not a scan of the namespace.
    row = await (await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM knowledge_chunks WHERE namespace = ANY(%(ns)s) AND language < %(lang)s) "
        "OR EXISTS (SELECT 1 FROM knowledge_chunks WHERE namespace = ANY(%(ns)s) AND language > %(lang)s)",
        {"ns": namespaces, "lang": language})).fetchone()
    return bool(row and row[0])


async def text_search(conn: psycopg.AsyncConnection, namespace: str | Sequence[str], query: str, k: int,
                      language: str | None = None) -> list[tuple[int, float]]:
    # Any of the query's words may match (OR), ranked by cover density: questions rarely share every word.
    # language None: passages of every language, the query parsed as English (how search worked before 0014).
    cur = await conn.execute(
        f"WITH q AS ({_OR_OF_LEXEMES}) "
        "SELECT c.id, ts_rank(c.tsv, q.q, 1) AS rank FROM knowledge_chunks c, q "
        "WHERE c.namespace = ANY(%(ns)s) AND (%(lang)s::text IS NULL OR c.language = %(lang)s) AND c.tsv @@ q.q "
        "ORDER BY rank DESC, c.id LIMIT %(k)s",
        {"q": query, "ns": _namespaces(namespace), "budget": CANDIDATE_BUDGET, "lang": language, "k": k})
    return [(int(r[0]), float(r[1])) for r in await cur.fetchall()]


async def search(conn: psycopg.AsyncConnection, store: VectorStore, embedder: Embedder,
                 namespace: str | Sequence[str], query: str, k: int, mode: Mode = "hybrid",
                 text_weight: float = TEXT_WEIGHT, language: str = DEFAULT_LANGUAGE) -> list[Passage]:
    """The k best passages of the namespace(s) in `language`; English fills the rest where that language has
    fewer passages (a file not translated yet, a language without a translation)."""
    namespaces = _namespaces(namespace)
    found = await _search_language(conn, store, embedder, namespaces, query, k, mode, text_weight, language)
    if len(found) < k and language != DEFAULT_LANGUAGE:
        found += (await _search_language(conn, store, embedder, namespaces, query, k, mode, text_weight,
                                         DEFAULT_LANGUAGE))[:k - len(found)]
    return found


async def _search_language(conn: psycopg.AsyncConnection, store: VectorStore, embedder: Embedder,
                           namespaces: list[str], query: str, k: int, mode: Mode, text_weight: float,
                           language: str) -> list[Passage]:
    candidates = max(20, 4 * k)
    vector_hits: list[tuple[int, float]] = []
    text_hits: list[tuple[int, float]] = []
    # The question is embedded (the model, in a thread) while the database ranks its words and looks for other
    # languages: the connection is idle while the model runs, and the embedding is most of a search's time.
    embedding = asyncio.ensure_future(embedder.embed([query])) if mode in ("hybrid", "vector") else None
    try:
        if mode in ("hybrid", "text"):
            text_hits = await text_search(conn, namespaces, query, candidates, language)
        if embedding is not None:
            # pgvector filters by language itself; a store that cannot (Pinecone), where the namespaces hold other
            # languages, is asked for every language's share and this language's are kept below.
            own = getattr(store, "filters_language", False)
            mixed = not own and await _other_languages(conn, namespaces, language)
            vector = (await embedding)[0]
            # Cosine similarities share one scale across namespaces, so several namespaces merge by score.
            wanted = candidates * len(LANGUAGES) if mixed else candidates
            for ns in namespaces:
                vector_hits += await store.search(conn, ns, vector, wanted, language if own else None)
            vector_hits.sort(key=lambda hit: -hit[1])
            if mixed:
                cur = await conn.execute("SELECT id FROM knowledge_chunks WHERE id = ANY(%s) AND language = %s",
                                         ([cid for cid, _ in vector_hits], language))
                in_language = {r[0] for r in await cur.fetchall()}
                vector_hits = [hit for hit in vector_hits if hit[0] in in_language]
            vector_hits = vector_hits[:candidates]
    finally:
        if embedding is not None:
            embedding.cancel()  # done already, unless something above failed
    vector_rank = {cid: rank for rank, (cid, _) in enumerate(vector_hits, start=1)}
    text_rank = {cid: rank for rank, (cid, _) in enumerate(text_hits, start=1)}
    known = getattr(embedder, "languages", None)  # None: a multilingual model
    if mode == "hybrid" and known is not None and language not in known:
        weighted = ((vector_rank, FOREIGN_VECTOR_WEIGHT), (text_rank, 1.0))
    else:
        weighted = ((vector_rank, 1.0), (text_rank, text_weight if mode == "hybrid" else 1.0))
    fused = {cid: sum(weight / (RRF_K + ranks[cid]) for ranks, weight in weighted if cid in ranks)
             for cid in vector_rank.keys() | text_rank.keys()}
    best = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
    if not best:
        return []
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT id, namespace, source, title, content, language FROM knowledge_chunks "
                      "WHERE id = ANY(%s)", (best,))
    rows = {r["id"]: r for r in await cur.fetchall()}
    return [Passage(id=cid, namespace=rows[cid]["namespace"], source=rows[cid]["source"], title=rows[cid]["title"],
                    content=rows[cid]["content"], score=round(fused[cid], 6), vector_rank=vector_rank.get(cid),
                    text_rank=text_rank.get(cid), language=rows[cid]["language"]) for cid in best if cid in rows]
