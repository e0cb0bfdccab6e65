"""Retrieval quality on realistic customer questions: vector-only, full-text-only and hybrid."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from servers.knowledge import retrieval
from servers.knowledge.stores import PgVectorStore

EVAL = json.loads((Path(__file__).parent / "retrieval_eval.json").read_text())


async def recall(conn: psycopg.AsyncConnection, embedder, mode: str) -> tuple[float, float, list[str]]:
    at1 = at5 = 0
    misses = []
    for item in EVAL:
        passages = await retrieval.search(conn, PgVectorStore(), embedder, item["ns"], item["q"], 5, mode)
        titles = [p.title for p in passages]
        at1 += bool(titles) and titles[0] == item["title"]
        at5 += item["title"] in titles
        if item["title"] not in titles:
            misses.append(item["q"])
    return at1 / len(EVAL), at5 / len(EVAL), misses


async def test_every_question_has_its_passage_in_the_knowledge(kconn: psycopg.AsyncConnection) -> None:
    assert len(EVAL) >= 60
    cur = await kconn.execute("SELECT namespace, title FROM knowledge_chunks WHERE namespace NOT LIKE 'examples/%'")
    present = {tuple(r) for r in await cur.fetchall()}
    assert all((item["ns"], item["title"]) in present for item in EVAL)


async def test_hybrid_recall_at_5_is_at_least_0_9_with_the_offline_model(kconn: psycopg.AsyncConnection, embedder
                                                                          ) -> None:
    table = {mode: await recall(kconn, embedder, mode) for mode in ("vector", "text", "hybrid")}
    print("\nmode     recall@1  recall@5")
    for mode, (r1, r5, _) in table.items():
        print(f"{mode:<8} {r1:8.3f}  {r5:8.3f}")
    print("hybrid misses:", table["hybrid"][2])
    assert table["hybrid"][1] >= 0.9
    # (no assertion across modes: printed for the closing note)
