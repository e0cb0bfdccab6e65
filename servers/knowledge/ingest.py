"""Ingest knowledge: documents (Markdown, JSON, CSV) and the best past answers as few-shot examples.

Each file lands in its own transaction: a corrupt file is reported and the rest of the batch still
lands; a changed file replaces its old passages; an unchanged one is skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from schemas.categories import Category
from schemas.knowledge import AREA_NAMESPACES, examples_namespace
from schemas.languages import DEFAULT_LANGUAGE, LANGUAGES
from servers.knowledge.bulk_index import vector_index_after_load
from servers.knowledge.chunking import Chunk, DocumentError, read_document
from servers.knowledge.embeddings import Embedder
from servers.knowledge.redaction import KnownPersonalData, known_personal_data, redact
from servers.knowledge.stores import PgVectorStore, VectorStore, as_vector

SUFFIXES = (".md", ".json", ".csv")
Progress = Callable[[int, int, str], None]


@dataclass
class FileReport:
    source: str
    status: Literal["added", "replaced", "unchanged", "failed"]
    namespace: str | None = None
    chunks: int = 0
    duplicates: int = 0
    reason: str | None = None


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]


def valid_namespace(name: str) -> bool:
    return name in AREA_NAMESPACES or name in {examples_namespace(c) for c in Category}


def discover(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist")
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def _source_name(path: Path) -> str:
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def language_of(path: Path) -> str:
    """A translation lives in a folder named by its language (docs/help-center/es/faq.md); the rest is English."""
    return path.parent.name if path.parent.name in LANGUAGES else DEFAULT_LANGUAGE


async def _replace(conn: psycopg.AsyncConnection, store: VectorStore, embedder: Embedder, namespace: str,
                   source: str, chunks: list[Chunk], language: str = DEFAULT_LANGUAGE,
                   vectors: list[list[float]] | None = None) -> tuple[int, int, list[int]]:
    """Swap the passages of one source inside the caller's transaction: (inserted, duplicates, old ids). The
    chunks are embedded here unless their vectors are given."""
    cur = await conn.execute("DELETE FROM knowledge_chunks WHERE namespace = %s AND source = %s RETURNING id",
                             (namespace, source))
    old_ids = [row[0] for row in await cur.fetchall()]
    if vectors is None:
        vectors = await embedder.embed([c.content for c in chunks]) if chunks else []
    inserted = await _insert(conn, store, namespace, source, chunks, vectors, language)
    # Before commit: if the vector store refuses, the transaction rolls back and nothing is half-written.
    # pgvector's vectors went in with their rows; it is told of none.
    await store.upsert(conn, namespace, [] if isinstance(store, PgVectorStore) else inserted)
    return len(inserted), len(chunks) - len(inserted), old_ids


async def _insert(conn: psycopg.AsyncConnection, store: VectorStore, namespace: str, source: str,
                  chunks: list[Chunk], vectors: list[list[float]], language: str) -> list[tuple[int, list[float]]]:
    """A source's chunks in one INSERT, with their vectors when those live in PostgreSQL: (id, vector) of those
    inserted. One statement rather than one per chunk plus an UPDATE for its vector, which wrote each row (and
    its indexes) twice: most of the time of ingesting many short sections. A chunk whose content the namespace
    already holds (the same hash) is skipped, the first of a file's duplicates kept."""
    if not chunks:
        return []
    in_rows = isinstance(store, PgVectorStore)
    cur = await conn.execute(
        "INSERT INTO knowledge_chunks (namespace, source, chunk_index, title, content, content_hash, metadata, "
        "language, embedding) "
        "SELECT %(ns)s, %(source)s, x.i - 1, x.title, x.content, x.hash, x.meta, %(lang)s, x.vector::vector "
        "FROM unnest(%(titles)s::text[], %(contents)s::text[], %(hashes)s::text[], %(metas)s::jsonb[], "
        "            %(vectors)s::text[]) WITH ORDINALITY AS x (title, content, hash, meta, vector, i) "
        "ORDER BY x.i ON CONFLICT (namespace, content_hash) DO NOTHING RETURNING id, chunk_index",
        {"ns": namespace, "source": source, "lang": language, "titles": [c.title for c in chunks],
         "contents": [c.content for c in chunks], "hashes": [c.content_hash for c in chunks],
         "metas": [Jsonb(c.metadata) for c in chunks],
         "vectors": [as_vector(v) if in_rows else None for v in vectors]})
    return sorted((row[0], vectors[row[1]]) for row in await cur.fetchall())


@dataclass
class _Prepared:
    """A changed file read and chunked, then embedded (vectors), ready to be written."""

    source: str
    namespace: str
    chunks: list[Chunk]
    file_hash: str
    language: str
    existed: bool
    vectors: list[list[float]] = field(default_factory=list)


async def _read(pool: AsyncConnectionPool, path: Path, namespace: str | None) -> _Prepared | FileReport:
    """Read and chunk one file; a FileReport instead when it fails or is unchanged."""
    source = _source_name(path)
    try:
        named, chunks = await asyncio.to_thread(read_document, path)
    except DocumentError as exc:
        return FileReport(source, "failed", reason=str(exc))
    target = namespace or named or (path.stem if path.stem in AREA_NAMESPACES else None)
    if target is None or not valid_namespace(target):
        return FileReport(source, "failed", reason=f"{path.name}: namespace {target!r} is not one of "
                          f"{', '.join(AREA_NAMESPACES)}; add 'namespace: faq' front matter or pass --namespace")
    file_hash = hashlib.sha256(await asyncio.to_thread(path.read_bytes)).hexdigest()
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT file_hash FROM knowledge_sources WHERE namespace = %s AND source = %s",
                                        (target, source))).fetchone()
    if row is not None and row[0] == file_hash:
        return FileReport(source, "unchanged", target)
    return _Prepared(source, target, chunks, file_hash, language_of(path), row is not None)


async def _embedded(embedder: Embedder, file: _Prepared | FileReport) -> _Prepared | FileReport:
    if isinstance(file, _Prepared) and file.chunks:
        file.vectors = await embedder.embed([c.content for c in file.chunks])
    return file


async def _write(pool: AsyncConnectionPool, store: VectorStore, embedder: Embedder, file: _Prepared) -> FileReport:
    async with pool.connection() as conn:
        async with conn.transaction():
            inserted, duplicates, old_ids = await _replace(conn, store, embedder, file.namespace, file.source,
                                                           file.chunks, file.language, file.vectors)
            await conn.execute(
                "INSERT INTO knowledge_sources (namespace, source, file_hash, chunks) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (namespace, source) DO UPDATE SET file_hash = excluded.file_hash, "
                "chunks = excluded.chunks, ingested_at = now()",
                (file.namespace, file.source, file.file_hash, inserted))
        await store.delete(conn, file.namespace, old_ids)
    return FileReport(file.source, "replaced" if file.existed else "added", file.namespace, inserted, duplicates)


async def ingest_file(pool: AsyncConnectionPool, store: VectorStore, embedder: Embedder, path: Path,
                      namespace: str | None = None) -> FileReport:
    prepared = await _embedded(embedder, await _read(pool, path, namespace))
    return prepared if isinstance(prepared, FileReport) else await _write(pool, store, embedder, prepared)


async def ingest_path(pool: AsyncConnectionPool, store: VectorStore, embedder: Embedder, path: Path,
                      namespace: str | None = None, progress: Progress | None = None) -> IngestReport:
    files = discover(path)
    report = IngestReport()
    # Every file is read first (cheap): how many passages the load adds decides how the vector index is kept.
    read = [await _read(pool, file, namespace) for file in files]
    adding = sum(len(f.chunks) for f in read if isinstance(f, _Prepared))
    async with vector_index_after_load(pool, store, adding):
        # The next file is embedded (the model, in a thread) while this one is written (the database, in its own
        # process).
        upcoming = asyncio.ensure_future(_embedded(embedder, read[0])) if read else None
        try:
            for done, file in enumerate(files, start=1):
                assert upcoming is not None
                prepared = await upcoming
                upcoming = asyncio.ensure_future(_embedded(embedder, read[done])) if done < len(read) else None
                report.files.append(prepared if isinstance(prepared, FileReport)
                                    else await _write(pool, store, embedder, prepared))
                if progress:
                    progress(done, len(files), file.name)
        finally:
            if upcoming is not None:
                upcoming.cancel()
    return report


EXAMPLES_QUERY = """
SELECT id, category, question, answer, customer_id, customer_email FROM (
    SELECT t.id, t.category, d.body AS question, t.customer_id, t.customer_email,
           CASE WHEN t.handled_by = 'ai' THEN t.ai_answer ELSE t.human_answer END AS answer,
           row_number() OVER (PARTITION BY t.category ORDER BY t.rating DESC, t.created_at DESC) AS n
    FROM support_threads_data t
    JOIN support_dialogs d ON d.ticket_id = t.id AND d.seq = 1
    WHERE t.human_approved AND t.rating >= 4
      AND CASE WHEN t.handled_by = 'ai' THEN t.ai_answer ELSE t.human_answer END IS NOT NULL
) AS ranked
WHERE n <= %(pool)s
ORDER BY category, n
"""


async def import_examples(pool: AsyncConnectionPool, store: VectorStore, embedder: Embedder, per_category: int = 40,
                          progress: Progress | None = None) -> IngestReport:
    """The best human-approved, well-rated answers (rating >= 4) of each category become its few-shot examples,
    with personal data replaced by placeholders: an example is shown in other customers' conversations."""
    async with pool.connection() as conn:
        rows = await (await conn.execute(EXAMPLES_QUERY, {"pool": per_category * 10})).fetchall()
        known = await known_personal_data(conn, [row[4] for row in rows if row[4] is not None])
    by_category: dict[str, list[Chunk]] = {}
    seen: set[str] = set()
    for ticket_id, category, raw_question, raw_answer, customer_id, customer_email in rows:
        customer = known.get(customer_id, KnownPersonalData()).with_email(customer_email)
        question, answer = redact(raw_question, customer), redact(raw_answer, customer)
        # Redacted answers that differ only in a name or number are one example (the hash dedupes them).
        chunk = Chunk(title=question, content=f"{question}\n{answer}",
                      metadata={"question": question, "answer": answer, "category": category,
                                "source_ticket": ticket_id})
        picked = by_category.setdefault(category, [])
        if len(picked) < per_category and chunk.content_hash not in seen:
            seen.add(chunk.content_hash)
            picked.append(chunk)
    report = IngestReport()
    for done, category in enumerate(Category, start=1):
        namespace = examples_namespace(category)
        chunks = by_category.get(category.value, [])
        async with pool.connection() as conn:
            async with conn.transaction():
                old = await (await conn.execute("DELETE FROM knowledge_chunks WHERE namespace = %s RETURNING id",
                                                (namespace,))).fetchall()
                inserted, duplicates, _ = await _replace(conn, store, embedder, namespace, "support_threads_data",
                                                         chunks)
            await store.delete(conn, namespace, [r[0] for r in old])
        report.files.append(FileReport(f"support_threads_data ({category.value})", "added", namespace, inserted,
                                       duplicates))
        if progress:
            progress(done, len(Category), category.value)
    return report
