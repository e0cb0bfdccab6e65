"""Migrations from scratch, re-runs, failures that roll back whole, edits refused, concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from store.errors import MigrationError
from store.migrate import Migration, discover, migrate, status


async def _tables(conn: psycopg.AsyncConnection) -> set[str]:
    cur = await conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row[0] for row in await cur.fetchall()}


async def test_from_scratch_creates_every_table_and_records_each_migration(empty_db: str) -> None:
    async with await psycopg.AsyncConnection.connect(empty_db, autocommit=True) as conn:
        applied = await migrate(conn)
        assert [m.label for m in applied] == [m.label for m in discover()]
        tables = await _tables(conn)
        for expected in ("customers", "subscriptions", "shipments", "damage_claims", "payment_issues", "conversations",
                         "messages", "turns", "action_audit", "idempotency_keys", "pending_confirmations",
                         "customer_memories", "support_threads_data", "support_dialogs", "ai_human_comparison",
                         "ai_agent_tasks", "ai_answerer_instructions", "analytics_learnings"):
            assert expected in tables
        states = await status(conn)
        assert all(s.applied_at is not None for s in states)


async def test_rerun_is_a_no_op(conn: psycopg.AsyncConnection) -> None:
    before = await (await conn.execute("SELECT version, applied_at FROM schema_migrations ORDER BY 1")).fetchall()
    assert await migrate(conn) == []
    after = await (await conn.execute("SELECT version, applied_at FROM schema_migrations ORDER BY 1")).fetchall()
    assert before == after


async def test_a_failing_migration_rolls_back_whole_and_keeps_the_earlier_ones(empty_db: str) -> None:
    good = Migration(1, "good", "CREATE TABLE first_table (id int);")
    bad = Migration(2, "bad", "CREATE TABLE half_done (id int); INSERT INTO half_done VALUES (1); SELECT 1/0;")
    async with await psycopg.AsyncConnection.connect(empty_db, autocommit=True) as conn:
        with pytest.raises(MigrationError, match=r"0002_bad failed and was rolled back whole: division by zero"):
            await migrate(conn, [good, bad])
        assert "first_table" in await _tables(conn)
        assert "half_done" not in await _tables(conn)
        versions = await (await conn.execute("SELECT version FROM schema_migrations")).fetchall()
        assert versions == [(1,)]
        fixed = Migration(2, "bad", "CREATE TABLE half_done (id int);")
        assert [m.version for m in await migrate(conn, [good, fixed])] == [2]


async def test_a_migration_edited_after_it_was_applied_is_refused(conn: psycopg.AsyncConnection) -> None:
    edited = [*discover()]
    edited[0] = Migration(edited[0].version, edited[0].name, edited[0].sql + "\n-- edited")
    with pytest.raises(MigrationError, match="was edited after it was applied"):
        await migrate(conn, edited)


async def test_concurrent_migrators_apply_each_migration_once(empty_db: str) -> None:
    async def run() -> list[Migration]:
        async with await psycopg.AsyncConnection.connect(empty_db, autocommit=True) as conn:
            return await migrate(conn)

    first, second = await asyncio.gather(run(), run())
    assert sorted(len(x) for x in (first, second)) == [0, len(discover())]


def test_migration_files_must_be_numbered_and_unique(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="two migrations share version 0001"):
        discover(tmp_path)
    (tmp_path / "0001_b.sql").unlink()
    (tmp_path / "2_bad-name.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="must be named NNNN_lower_snake_name.sql"):
        discover(tmp_path)
