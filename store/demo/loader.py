"""Writes generated demo data with COPY, in one transaction: all of it lands, or none of it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from schemas.policy import load_policy
from store.demo.generator import Batch, DemoGenerator, SeedConfig
from store.demo.rows import TABLES
from store.errors import SeedRefused

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


async def _copy(cur: psycopg.AsyncCursor, row_type: type, rows: list[tuple]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(TABLES[row_type]), sql.SQL(", ").join(map(sql.Identifier, row_type._fields))
    )
    async with cur.copy(statement) as copy:
        for row in rows:
            await copy.write_row(row)


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
) -> SeedReport:
    """Fill the store with demo data. `conn` must be in autocommit mode; the seed runs in one transaction."""
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
    generator = DemoGenerator(config, load_policy())
    async with conn.transaction():
        async with conn.cursor() as cur:
            for batch in generator.batches():
                for row_type in TABLES:  # the dict's order satisfies the foreign keys
                    rows = batch.rows.get(row_type)
                    if rows:
                        await _copy(cur, row_type, rows)
                        table = TABLES[row_type]
                        report.rows[table] = report.rows.get(table, 0) + len(rows)
                if on_batch:
                    on_batch(batch)
        await _fix_identity_sequences(conn)
    await conn.execute("ANALYZE")
    report.seconds = time.perf_counter() - started
    return report
