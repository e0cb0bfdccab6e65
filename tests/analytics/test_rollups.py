"""Every saved query that reads the rollups (migrations 0011, 0015-0019, 0026) gives the numbers of its raw version.

The raw versions are the queries as they were before the rollups (tests/analytics/raw_queries/). Each pair runs on
the seeded data over windows that start and end mid-hour, today's partial day, whole days and hours, and again
after tickets, comparisons and tasks changed once the rollups were built (kept by the triggers), in three time
zones. The rollup side runs as the analytics login, through the executor the server uses.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from servers.analytics.context import ALLOWED_TABLES, saved_queries
from servers.analytics.executor import run_read_only
from servers.analytics.reader import open_reader_pool, reader_url
from store.rollups import ROLLUP_TABLES, rebuild_rollups
from tests.helpers import AS_OF, settings_for

RAW = {p.stem: p.read_text() for p in (Path(__file__).parent / "raw_queries").glob("*.sql")}
TODAY = AS_OF.replace(hour=0)
WINDOWS = [
    (AS_OF - timedelta(days=7), AS_OF),
    (AS_OF - timedelta(days=90), AS_OF),
    (TODAY, AS_OF),  # today's partial day
    (TODAY - timedelta(days=1), TODAY),  # one whole day
    (AS_OF - timedelta(days=30, minutes=17), AS_OF - timedelta(hours=5, minutes=43)),  # mid-hour at both ends
    (AS_OF - timedelta(hours=3, minutes=50), AS_OF - timedelta(hours=3, minutes=10)),  # inside one hour
    (AS_OF - timedelta(hours=30), AS_OF - timedelta(hours=2)),  # whole hours, no whole day
    (AS_OF, AS_OF - timedelta(days=1)),  # empty
]


# The functions of migrations 0011, 0015 and 0026 that read a period from the rollups.
_ROLLED_UP = re.compile(r"\bsupport_\w+_(window|percentiles)\(")


def test_every_saved_query_over_a_period_reads_the_rollups_and_has_a_raw_version() -> None:
    rolled_up = {name for name, q in saved_queries().items() if _ROLLED_UP.search(q.sql)}
    assert rolled_up == set(RAW)
    assert len(rolled_up) >= 18


def _param_sets(name: str) -> list[dict[str, Any]]:
    names = {p.name for p in saved_queries()[name].params}
    if "now" in names:  # week_over_week: this week so far against the same stretch of last week
        return [{"now": AS_OF}, {"now": AS_OF - timedelta(days=3, minutes=21)}, {"now": TODAY}]
    ints = {p.name: int(p.default or 0) for p in saved_queries()[name].params if p.type == "int"}
    sets = []
    for start, end in WINDOWS:
        base = {"start": start, "end": end} | {n: None for n in names - {"start", "end"}} | ints
        sets.append(base)
        if "category" in names:
            sets.append(base | {"category": "damaged_item"})
        if "channel" in names:
            sets.append(base | {"channel": "whatsapp", "category": "shipping_inquiry"})
        # Every grouping, and the bit-mask filters alone and together (a value outside the data's: api).
        sets += [base | {"by": by} for by in range(1, _GROUPINGS.get(name, 0) + 1)]
        if "categories" in names:
            sets.append(base | {"by": 1, "categories": 1 | 32 | 512})
        if "task_types" in names:
            sets += [base | {"task_types": 1 | 16384}, base | {"statuses": 8}, base | {"errors": 1, "by": 4},
                     base | {"categories": 2}]
        if "verdicts" in names:
            sets += [base | {"verdicts": 1 | 4}, base | {"by": 3, "verdicts": 2}, base | {"by": 2, "categories": 4}]
        if "channels" in names:
            sets += [base | {"channels": 4 | 64}, base | {"by": 3, "categories": 2, "channels": 1 | 8}]
        if "response_within_minutes" in names:  # ticket_metrics: the rollups answer the default only
            sets += [base | {"handled": 1 | 8}, base | {"rated": 1, "by": 7}, base | {"response_within_minutes": 5},
                     base | {"by": 2, "not_languages": 1, "customer": 1}]
    return sets


# How many `by` groupings each query with one has (its `by` parameter's description lists them).
_GROUPINGS = {"conversation_messages": 3, "answer_comparison": 3, "agent_tasks": 5, "ticket_metrics": 13}


def _canonical(rows: list) -> list:
    return sorted(tuple(str(v) for v in row) for row in rows)


@pytest.fixture
async def reader(db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    settings = settings_for(db_url)
    async with open_reader_pool(reader_url(db_url, settings), settings) as pool:
        yield pool


async def _assert_rollups_match_raw(db: psycopg.AsyncConnection, reader: AsyncConnectionPool) -> int:
    compared = 0
    for name, raw in RAW.items():
        rolled = saved_queries()[name].sql
        for params in _param_sets(name):
            expected = await (await db.execute(raw, params)).fetchall()
            got = await run_read_only(reader, rolled, params, max_rows=1000)
            assert _canonical(got.rows) == _canonical([[_json(v) for v in row] for row in expected]), (name, params)
            compared += 1
    return compared


def _json(value: Any) -> Any:
    from servers.analytics.executor import _jsonable

    return _jsonable(value)


async def _rollup_rows(db: psycopg.AsyncConnection) -> list:
    rows = []
    assert set(ROLLUP_TABLES) <= set(ALLOWED_TABLES)  # what the triggers keep, and analytics reads
    assert len(ROLLUP_TABLES) == 13
    for table in [*ROLLUP_TABLES, "knowledge_lexemes"]:
        rows.append(sorted(map(str, await (await db.execute(f"SELECT * FROM {table}")).fetchall())))
    return rows


async def test_saved_queries_give_the_raw_numbers_before_and_after_changes(db: psycopg.AsyncConnection,
                                                                            reader: AsyncConnectionPool) -> None:
    assert await _assert_rollups_match_raw(db, reader) > 200

    # Changes after the rollups were built: the triggers keep them exact.
    ticket = (await (await db.execute(
        "SELECT t.id FROM support_threads_data t JOIN ai_human_comparison c ON c.ticket_id = t.id "
        "WHERE t.created_at < %s ORDER BY t.id LIMIT 1", (AS_OF - timedelta(days=20),))).fetchone())[0]
    # An old ticket reclassified, re-rated and moved (all its times alike) into today's partial day.
    await db.execute("UPDATE support_threads_data SET category = 'payment_issue', channel = 'telegram', "
                     "handled_by = 'human', rating = 1, ai_model = 'claude-sonnet-4.5', ai_cost_usd = 0.012345, "
                     "created_at = created_at + (%(to)s - created_at), "
                     "ai_answered_at = ai_answered_at + (%(to)s - created_at), "
                     "draft_created_at = draft_created_at + (%(to)s - created_at), "
                     "first_response_at = first_response_at + (%(to)s - created_at), "
                     "resolved_at = resolved_at + (%(to)s - created_at) WHERE id = %(id)s",
                     {"to": AS_OF - timedelta(minutes=20), "id": ticket})
    await db.execute("UPDATE ai_human_comparison SET verdict = 'human_better' WHERE id IN "
                     "(SELECT id FROM ai_human_comparison WHERE verdict <> 'human_better' ORDER BY id LIMIT 5)")
    await db.execute("UPDATE ai_human_comparison SET similarity = 0.333 WHERE id IN "
                     "(SELECT id FROM ai_human_comparison ORDER BY id LIMIT 4)")
    await db.execute("INSERT INTO ai_human_comparison (ticket_id, category, ai_answer, human_answer, similarity, "
                     "verdict, evaluated_at) SELECT s.id, s.category, 'a', 'b', 0.5, 'ai_better', s.created_at "
                     "FROM support_threads_data s WHERE NOT EXISTS (SELECT FROM ai_human_comparison c "
                     "WHERE c.ticket_id = s.id) ORDER BY s.created_at DESC LIMIT 2")
    await db.execute("DELETE FROM ai_human_comparison WHERE id IN (SELECT id FROM ai_human_comparison "
                     "ORDER BY id DESC LIMIT 3)")
    gone = (await (await db.execute("SELECT ticket_id FROM ai_human_comparison ORDER BY id LIMIT 1 OFFSET 10")
                   ).fetchone())[0]
    await db.execute("DELETE FROM support_threads_data WHERE id = %s", (gone,))  # cascades to its comparison
    await db.execute(
        "INSERT INTO support_threads_data (thread_id, customer_email, channel, category, urgency, language, subject, "
        "status, created_at) VALUES ('TKT-NEW-1', 'new@example.com', 'sms', 'other', 'low', 'en', 'hello', 'new', %s),"
        " ('TKT-NEW-2', 'new2@example.com', 'email', 'other', 'low', 'en', 'hi', 'new', %s)",
        (AS_OF - timedelta(minutes=3), AS_OF - timedelta(days=2, minutes=1)))
    await db.execute("UPDATE support_threads_data SET status = 'closed', rating = 5 WHERE id IN "
                     "(SELECT id FROM support_threads_data WHERE rating IS NULL AND first_response_at IS NOT NULL "
                     "ORDER BY id DESC LIMIT 40)")
    await db.execute("UPDATE ai_agent_tasks SET status = 'failed', error = 'carrier timeout' WHERE id IN "
                     "(SELECT id FROM ai_agent_tasks WHERE status = 'succeeded' ORDER BY id DESC LIMIT 7)")
    await db.execute("DELETE FROM ai_agent_tasks WHERE id IN (SELECT id FROM ai_agent_tasks ORDER BY id LIMIT 4)")
    # Tasks that start a ticket's chain earlier (pending: no duration), and tasks moved days later, so that their
    # tickets' earlier tasks lie before a period that holds them.
    await db.execute("INSERT INTO ai_agent_tasks (ticket_id, category, task_type, status, created_at) "
                     "SELECT ticket_id, category, 'handoff', 'pending', created_at - interval '3 days' "
                     "FROM ai_agent_tasks ORDER BY id DESC LIMIT 3")
    await db.execute("UPDATE ai_agent_tasks SET created_at = created_at + interval '6 days 1 hour', "
                     "finished_at = finished_at + interval '6 days 1 hour' WHERE id IN "
                     "(SELECT id FROM ai_agent_tasks WHERE created_at < %s ORDER BY id LIMIT 5 OFFSET 50)",
                     (AS_OF - timedelta(days=8),))
    # A ticket whose tasks began last night gets one today: its span (hours) holds today's midnight.
    await db.execute("INSERT INTO ai_agent_tasks (ticket_id, category, task_type, status, created_at) "
                     "SELECT ticket_id, category, 'handoff', 'pending', %s FROM ai_agent_tasks "
                     "WHERE created_at >= %s AND created_at < %s ORDER BY id LIMIT 1",
                     (TODAY + timedelta(hours=1), TODAY - timedelta(hours=10), TODAY))
    # Messages added, re-attributed, moved to the ticket moved into today and deleted; answers that took longer
    # (other response-time bands), among them today's.
    await db.execute("INSERT INTO support_dialogs (ticket_id, seq, role, body, created_at) SELECT id, 9, 'human', "
                     "'ok', created_at + interval '1 day' FROM support_threads_data ORDER BY id LIMIT 2")
    await db.execute("UPDATE support_dialogs SET role = 'ai' WHERE id = (SELECT min(id) FROM support_dialogs "
                     "WHERE role = 'human')")
    await db.execute("UPDATE support_dialogs SET ticket_id = %s, seq = 20 WHERE id = (SELECT max(id) FROM "
                     "support_dialogs WHERE ticket_id <> %s)", (ticket, ticket))
    await db.execute("DELETE FROM support_dialogs WHERE id = (SELECT min(id) FROM support_dialogs WHERE seq = 2 "
                     "AND ticket_id <> %s)", (ticket,))
    await db.execute("UPDATE support_threads_data SET first_response_at = first_response_at + interval '7 min 3.25 s' "
                     "WHERE id IN (SELECT id FROM support_threads_data WHERE first_response_at IS NOT NULL "
                     "ORDER BY created_at DESC LIMIT 25)")
    # Tickets that change customer (to one whose id is in another 8,192-id chunk of the bitmaps, or to none) or
    # hand-offs: one removed, one moved before its ticket arrived, one added today to a ticket of a week ago; longer
    # resolutions.
    await db.execute("INSERT INTO customers (id, email, first_name, last_name, country_code) OVERRIDING SYSTEM VALUE "
                     "VALUES (20000, 'far@example.com', 'Far', 'Away', 'IL')")
    await db.execute("UPDATE support_threads_data SET customer_id = 20000 WHERE id IN (SELECT id FROM "
                     "support_threads_data WHERE customer_id IS NOT NULL ORDER BY created_at DESC LIMIT 3)")
    await db.execute("UPDATE support_threads_data SET customer_id = NULL WHERE id = (SELECT id FROM "
                     "support_threads_data WHERE customer_id IS NOT NULL AND created_at < %s ORDER BY id LIMIT 1)",
                     (AS_OF - timedelta(days=3),))
    await db.execute("DELETE FROM ai_agent_tasks WHERE id = (SELECT min(id) FROM ai_agent_tasks WHERE task_type = "
                     "'handoff')")
    await db.execute("UPDATE ai_agent_tasks t SET created_at = s.created_at - interval '2 hours', finished_at = NULL, "
                     "status = 'pending', duration_ms = NULL, error = NULL FROM support_threads_data s "
                     "WHERE s.id = t.ticket_id AND t.id = (SELECT max(id) FROM ai_agent_tasks WHERE task_type = "
                     "'handoff' AND created_at < %s)", (AS_OF - timedelta(days=4),))
    await db.execute("INSERT INTO ai_agent_tasks (ticket_id, category, task_type, status, created_at) "
                     "SELECT id, category, 'handoff', 'pending', %s FROM support_threads_data "
                     "WHERE created_at < %s ORDER BY created_at DESC LIMIT 1",
                     (AS_OF - timedelta(minutes=5), AS_OF - timedelta(days=7)))
    await db.execute("UPDATE support_threads_data SET resolved_at = resolved_at + interval '3 hours 0.5 s' "
                     "WHERE id IN (SELECT id FROM support_threads_data WHERE resolved_at IS NOT NULL "
                     "ORDER BY created_at DESC LIMIT 9)")
    assert await _assert_rollups_match_raw(db, reader) > 200

    # What the triggers kept is what a rebuild computes.
    kept = await _rollup_rows(db)
    await rebuild_rollups(db)
    assert await _rollup_rows(db) == kept
    # And the seed's rebuild (its indexes dropped, built again after), from hour rows added up into days.
    await rebuild_rollups(db, bulk=True)
    assert await _rollup_rows(db) == kept


async def test_a_hand_off_task_s_progress_does_not_wait_for_its_ticket(db: psycopg.AsyncConnection,
                                                                       db_url: str) -> None:
    """Only a hand-off's ticket, type or time moves the ticket figures: a status change of the task touches none of
    them and takes no lock on its ticket, so it cannot deadlock against a transaction changing the ticket."""
    row = await (await db.execute("SELECT id, ticket_id FROM ai_agent_tasks WHERE task_type = 'handoff' "
                                  "ORDER BY id LIMIT 1")).fetchone()
    assert row is not None
    task, ticket = row
    ticket_figures = ("support_metric_rollup", "support_duration_rollup", "support_customer_rollup",
                      "support_ticket_handoffs")

    async def figures() -> list:
        return [await (await db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3")).fetchall()
                for table in ticket_figures]

    kept = await figures()
    async with await psycopg.AsyncConnection.connect(db_url) as other:
        await other.execute("UPDATE support_threads_data SET status = status WHERE id = %s", (ticket,))  # row locked
        await db.execute("SET lock_timeout = '2s'")
        await db.execute("UPDATE ai_agent_tasks SET status = 'cancelled', error = NULL, "
                         "finished_at = coalesce(finished_at, created_at) WHERE id = %s", (task,))
        await other.rollback()
    assert await figures() == kept


@pytest.mark.parametrize("zone", ["Asia/Jerusalem", "Asia/Kolkata", "America/New_York"])
async def test_days_are_the_session_time_zone_s_as_in_the_raw_query(db: psycopg.AsyncConnection, zone: str) -> None:
    await db.execute(f"SET TimeZone = '{zone}'")
    for name in ("daily_volume", "week_over_week", "ticket_count", "ticket_metrics"):
        for params in _param_sets(name):
            expected = await (await db.execute(RAW[name], params)).fetchall()
            got = await (await db.execute(saved_queries()[name].sql, params)).fetchall()
            assert _canonical(got) == _canonical(expected), (zone, name, params)
