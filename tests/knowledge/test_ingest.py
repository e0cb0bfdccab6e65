"""Ingest: chunking with overlap, dedupe, replace on change, corrupt files reported, nothing half-written."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from servers.knowledge import bulk_index, retrieval
from servers.knowledge.bulk_index import vector_index_after_load
from servers.knowledge.chunking import split_long
from servers.knowledge.ingest import ingest_path
from servers.knowledge.stores import PgVectorStore
from tests.helpers import HELP_CENTER as DOCS


@pytest.fixture
async def pool(knowledge_url: str):
    async with AsyncConnectionPool(knowledge_url, min_size=1, max_size=2, open=False) as p:
        yield p


def test_long_text_is_split_with_overlap() -> None:
    text = " ".join(f"Sentence number {i} says something about boxes." for i in range(80))
    pieces = split_long(text, max_chars=300, overlap=80)
    assert len(pieces) > 5 and all(len(p) <= 300 for p in pieces)
    for before, after in itertools.pairwise(pieces):
        assert after.split(" ", 3)[2] in before  # the next piece starts inside the previous one's tail


async def _passages(conn: psycopg.AsyncConnection, source_suffix: str) -> list[str]:
    cur = await conn.execute("SELECT title FROM knowledge_chunks WHERE source LIKE %s ORDER BY chunk_index",
                             (f"%{source_suffix}",))
    return [r[0] for r in await cur.fetchall()]


async def test_reingest_skips_unchanged_and_replaces_changed_files(pool, kconn, embedder, tmp_path: Path) -> None:
    doc = tmp_path / "notice.md"
    doc.write_text("---\nnamespace: shipping\n---\n## Holiday shipping\nBoxes ship late in April.\n"
                   "## Strike notice\nIsrael Post is on strike.\n")
    first = await ingest_path(pool, PgVectorStore(), embedder, doc)
    assert [(f.status, f.chunks) for f in first.files] == [("added", 2)]
    again = await ingest_path(pool, PgVectorStore(), embedder, doc)
    assert [f.status for f in again.files] == ["unchanged"]
    doc.write_text("---\nnamespace: shipping\n---\n## Holiday shipping\nBoxes ship on time in April.\n")
    changed = await ingest_path(pool, PgVectorStore(), embedder, doc)
    assert [(f.status, f.chunks) for f in changed.files] == [("replaced", 1)]
    assert await _passages(kconn, "notice.md") == ["Holiday shipping"]


async def test_a_corrupt_file_is_reported_and_the_rest_still_lands(pool, kconn, embedder, tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps({"namespace": "payments", "entries": [
        {"question": "Do you accept PayPal?", "answer": "Yes, PayPal is accepted on the website."}]}))
    (tmp_path / "broken.json").write_text('{"entries": [ {"question": "x", ')
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "nowhere.csv").write_text("question,answer\nWhat?,That.\n")
    report = await ingest_path(pool, PgVectorStore(), embedder, tmp_path)
    status = {Path(f.source).name: (f.status, f.reason) for f in report.files}
    assert status["good.json"] == ("added", None)
    assert status["broken.json"][0] == "failed" and "invalid JSON at line 1" in status["broken.json"][1]
    assert status["binary.md"][0] == "failed" and "not UTF-8" in status["binary.md"][1]
    assert status["nowhere.csv"][0] == "failed" and "namespace None is not one of" in status["nowhere.csv"][1]
    assert await _passages(kconn, "good.json") == ["Do you accept PayPal?"]


async def test_the_same_passage_twice_is_stored_once(pool, kconn, embedder, tmp_path: Path) -> None:
    shutil.copy(DOCS / "payments.md", tmp_path / "copy.md")
    report = await ingest_path(pool, PgVectorStore(), embedder, tmp_path / "copy.md")
    assert report.files[0].chunks == 0 and report.files[0].duplicates == 10


class FailingStore(PgVectorStore):
    async def upsert(self, conn, namespace, items):
        raise RuntimeError("vector store unavailable")


async def test_a_failing_vector_store_leaves_nothing_half_written(pool, kconn, embedder, tmp_path: Path) -> None:
    doc = tmp_path / "faq.md"
    doc.write_text("## New question\nA new answer.\n")
    with pytest.raises(RuntimeError, match="vector store unavailable"):
        await ingest_path(pool, FailingStore(), embedder, doc)
    assert await _passages(kconn, str(doc.resolve())) == []
    assert (await (await kconn.execute("SELECT count(*) FROM knowledge_sources WHERE source = %s",
                                       (str(doc.resolve()),))).fetchone()) == (0,)


async def test_exact_tokens_that_embeddings_miss_are_found_by_the_hybrid(pool, kconn, embedder, tmp_path: Path
                                                                         ) -> None:
    doc = tmp_path / "recall.md"
    doc.write_text("---\nnamespace: damage\n---\n## Recall of batch HB-7731-Q\nHoney jars from batch HB-7731-Q may "
                   "have a loose lid; we replace them free.\n")
    await ingest_path(pool, PgVectorStore(), embedder, doc)
    hybrid = await retrieval.search(kconn, PgVectorStore(), embedder, "damage", "HB-7731-Q", 3)
    assert hybrid[0].title == "Recall of batch HB-7731-Q" and hybrid[0].text_rank == 1


async def _has_vector_index(conn: psycopg.AsyncConnection) -> bool:
    row = await (await conn.execute("SELECT to_regclass('knowledge_chunks_embedding_idx') IS NOT NULL")).fetchone()
    return bool(row and row[0])


async def test_a_bulk_load_builds_the_vector_index_after_the_rows(pool, kconn, embedder, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_index, "BULK_MIN_PASSAGES", 2)  # the real threshold is a thousand passages
    monkeypatch.setattr(bulk_index, "BULK_MIN_SHARE", 0.0)
    seen: list[bool] = []

    def progress(done: int, total: int, name: str) -> None:
        seen.append(name == "bulk.md")

    doc = tmp_path / "bulk.md"
    doc.write_text("---\nnamespace: shipping\n---\n## Drone delivery\nA drone drops the box in Eilat.\n"
                   "## Camel delivery\nA camel brings the box to the Negev.\n")
    async with vector_index_after_load(pool, PgVectorStore(), 2) as bulk:
        assert bulk and not await _has_vector_index(kconn)
    assert await _has_vector_index(kconn)
    report = await ingest_path(pool, PgVectorStore(), embedder, doc, progress=progress)
    assert [(f.status, f.chunks) for f in report.files] == [("added", 2)] and seen == [True]
    assert await _has_vector_index(kconn)
    vector = (await embedder.embed(["a camel brings my box"]))[0]
    hits = await PgVectorStore().search(kconn, "shipping", vector, 1, "en")
    assert await _passages(kconn, "bulk.md") == ["Drone delivery", "Camel delivery"]
    title = await (await kconn.execute("SELECT title FROM knowledge_chunks WHERE id = %s", (hits[0][0],))).fetchone()
    assert title == ("Camel delivery",)


async def test_an_ingest_rebuilds_a_vector_index_a_killed_bulk_load_left_missing(pool, kconn, embedder,
                                                                                 tmp_path: Path) -> None:
    await kconn.execute("DROP INDEX knowledge_chunks_embedding_idx")
    doc = tmp_path / "small.md"
    doc.write_text("---\nnamespace: shipping\n---\n## Pigeon post\nNo, we do not ship by pigeon.\n")
    report = await ingest_path(pool, PgVectorStore(), embedder, doc)  # far below the bulk threshold
    assert [f.status for f in report.files] == ["added"] and await _has_vector_index(kconn)
