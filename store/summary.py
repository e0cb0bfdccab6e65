"""Read-only views of the whole store: row counts, size, a content checksum, a business summary."""

from __future__ import annotations

import psycopg
from psycopg import sql

from schemas.domain import OPEN_CLAIM_STATUSES
from store.tables import CONTENT_TABLES


async def table_counts(conn: psycopg.AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in CONTENT_TABLES:
        row = await (await conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))).fetchone()
        counts[table] = row[0] if row else 0
    return counts


async def database_size(conn: psycopg.AsyncConnection) -> int:
    row = await (await conn.execute("SELECT pg_database_size(current_database())")).fetchone()
    return int(row[0]) if row else 0


async def _primary_key(conn: psycopg.AsyncConnection, table: str) -> list[str]:
    cur = await conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
        (table,),
    )
    return [row[0] for row in await cur.fetchall()]


async def content_checksum(conn: psycopg.AsyncConnection) -> str:
    """md5 over every seeded table's rows in primary-key order: equal iff the content is equal.

    Each row is hashed first, so the aggregate stays far below PostgreSQL's 1 GB value limit at 1M tickets.
    """
    parts = []
    for table in CONTENT_TABLES:
        order = sql.SQL(", ").join(map(sql.Identifier, await _primary_key(conn, table)))
        query = sql.SQL("SELECT md5(coalesce(string_agg(md5(t::text), '' ORDER BY {}), '')) FROM {} AS t").format(
            order, sql.Identifier(table)
        )
        row = await (await conn.execute(query)).fetchone()
        parts.append(f"{table}:{row[0] if row else ''}")
    joined = "|".join(parts)
    row = await (await conn.execute("SELECT md5(%s)", (joined,))).fetchone()
    return str(row[0]) if row else ""


SUMMARY_QUERIES: dict[str, str] = {
    "customers (countries)": "SELECT count(*)::text || ' (' || count(DISTINCT country_code) || ' countries)' FROM "
                             "customers",
    "subscriptions by status": "SELECT coalesce(string_agg(status || ' ' || n, ', ' ORDER BY n DESC), '-') "
    "FROM (SELECT status, count(*) n FROM subscriptions GROUP BY status) s",
    "shipments in transit / delivered": "SELECT count(*) FILTER (WHERE status NOT IN ('delivered','returned','lost')) "
    "|| ' / ' || count(*) FILTER (WHERE status = 'delivered') FROM shipments",
    "open damage claims": "SELECT count(*)::text FROM damage_claims "
    "WHERE status IN (" + ", ".join(f"'{s.value}'" for s in OPEN_CLAIM_STATUSES) + ")",
    "tickets (last 90 days)": "SELECT count(*)::text FROM support_threads_data",
    "top category": "SELECT coalesce((SELECT category || ' (' || round(100.0 * count(*) / sum(count(*)) OVER ()) || "
                    "'%)' "
    "FROM support_threads_data GROUP BY category ORDER BY count(*) DESC LIMIT 1), '-')",
    "tickets handled by AI alone, last 7 days": "SELECT count(*) FILTER (WHERE handled_by = 'ai') || ' of ' || "
                                                "count(*) "
    "FROM support_threads_data WHERE created_at >= (SELECT max(created_at) FROM support_threads_data) - interval '7 "
    "days'",
    "median first response (AI alone / human)": "SELECT coalesce(round(percentile_cont(0.5) WITHIN GROUP (ORDER BY "
    "extract(epoch FROM first_response_at - created_at)) FILTER (WHERE handled_by = 'ai'))::text || ' s', '-') || ' "
    "/ ' || "
    "coalesce(round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at) "
    "/ 60) "
    "FILTER (WHERE handled_by <> 'ai'))::text || ' min', '-') FROM support_threads_data",
    "active category rules": "SELECT count(*)::text FROM ai_answerer_instructions WHERE is_active",
}


async def business_summary(conn: psycopg.AsyncConnection) -> dict[str, str]:
    summary = {}
    for label, query in SUMMARY_QUERIES.items():
        row = await (await conn.execute(query)).fetchone()
        summary[label] = str(row[0]) if row and row[0] is not None else "-"
    return summary
