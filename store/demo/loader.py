"""Writes generated demo data with binary COPY, in one transaction: all of it lands, or none of it.

Shards are generated (in parallel processes at the large scale: store/demo/parallel.py) while this process feeds
them to the server, with foreign keys, secondary indexes and triggers set aside until the end (store/demo/bulk.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from store.demo.bulk import bulk_load
from store.demo.encode import column_types
from store.demo.generator import Batch, SeedConfig
from store.demo.parallel import shards
from store.demo.rows import TABLES
from store.errors import SeedRefused
from store.rollups import rebuild_rollups
from store.tables import CONTENT_TABLES

ProgressCallback = Callable[[Batch], None]


@dataclass
class SeedReport:
    config: SeedConfig
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


async def existing_data(conn: psycopg.AsyncConnection) -> dict[str, int]:
    """Row counts of the tables a seed would fill, for those that are not empty."""
    counts: dict[str, int] = {}
    for table in ("customers", "support_threads_data", "products", "ai_answerer_instructions"):
        query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT 1000000) AS t").format(sql.Identifier(table))
        row = await (await conn.execute(query)).fetchone()
        if row and row[0]:
            counts[table] = row[0]
    return counts


async def wipe(conn: psycopg.AsyncConnection) -> None:
    """Empty every application table. The audit log's TRUNCATE guard is lifted only inside this transaction."""
    cur = await conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'"
    )
    tables = [row[0] for row in await cur.fetchall()]
    async with conn.transaction():
        await conn.execute("ALTER TABLE action_audit DISABLE TRIGGER action_audit_no_truncate")
        await conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
        )
        await conn.execute("ALTER TABLE action_audit ENABLE TRIGGER action_audit_no_truncate")


async def _copy(cur: psycopg.AsyncCursor, table: str, columns: sql.Composable, data: bytes) -> None:
    async with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(sql.Identifier(table),
                                                                                columns)) as copy:
        await copy.write(data)


async def _fix_identity_sequences(conn: psycopg.AsyncConnection) -> None:
    # COPY wrote explicit ids; move each identity sequence past them so later inserts don't collide.
    cur = await conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for table, column in await cur.fetchall():
        await conn.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max({}), 0) + 1, false) FROM {}").format(
                sql.Identifier(column), sql.Identifier(table)
            ),
            (table, column),
        )


async def seed(
    conn: psycopg.AsyncConnection,
    config: SeedConfig,
    *,
    force: bool = False,
    on_batch: ProgressCallback | None = None,
    workers: int | None = None,
) -> SeedReport:
    """Fill the store with demo data. `conn` must be in autocommit mode; the seed runs in one transaction.

    `workers` processes generate the data (default: one per core; none when it fits in one shard); the data is
    the same whatever their number."""
    present = await existing_data(conn)
    if present and not force:
        what = ", ".join(f"{n:,} rows in {t}" for t, n in present.items())
        raise SeedRefused(
            f"the database already holds data ({what}); run `levhaolam seed --force` to wipe it and reseed"
        )
    started = time.perf_counter()
    if present:
        await wipe(conn)
    report = SeedReport(config)
    columns = {TABLES[t]: t._fields for t in TABLES}  # type: ignore[attr-defined]
    async with conn.transaction():
        types = {table: await column_types(conn, table, names) for table, names in columns.items()}
        listed = {table: sql.SQL(", ").join(map(sql.Identifier, names)) for table, names in columns.items()}
        async with bulk_load(conn, CONTENT_TABLES), conn.cursor() as cur:
            async for shard in shards(config, types, workers):
                for table, data in shard.data.items():
                    await _copy(cur, table, listed[table], data)
                    report.rows[table] = report.rows.get(table, 0) + shard.rows[table]
                if on_batch:
                    on_batch(shard.batch)
        await _fix_identity_sequences(conn)
        await rebuild_rollups(conn, bulk=True)  # the load ran with their triggers off
    # VACUUM as well as ANALYZE: a bulk load leaves the visibility map empty, so the analytics queries' index-only
    # scans would read the heap anyway (response_times at 1M tickets: 136 ms before a VACUUM, 15 ms after; ~6 s).
    # VACUUM cannot run in a transaction block: a caller's transaction gets the statistics only.
    await conn.execute("VACUUM (ANALYZE)" if conn.autocommit else "ANALYZE")
    report.seconds = time.perf_counter() - started
    return report
