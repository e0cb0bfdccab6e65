"""The analytics context layers that live in files (tables, business rules, vetted queries) and the
ones that live in the database (category rules, learnings, the live schema)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from schemas.analytics import BusinessRule, ColumnInfo, Learning, QueryParam, SavedQuery, TableInfo

SEMANTIC_LAYER = Path(__file__).parent / "semantic_layer"
# The tables analytics may read; the database role grants exactly these (migrations 0005; 0011, 0015-0019, 0026: the
# rollups).
ALLOWED_TABLES = ("support_threads_data", "support_dialogs", "ai_human_comparison", "ai_agent_tasks",
                  "ai_answerer_instructions", "support_ticket_rollup", "support_task_rollup", "support_response_rollup",
                  "support_message_rollup", "support_comparison_rollup", "support_similarity_rollup",
                  "support_task_detail_rollup", "support_task_spans", "support_first_task_rollup",
                  "support_metric_rollup", "support_duration_rollup", "support_customer_rollup",
                  "support_ticket_handoffs")

_PARAM = re.compile(r"^--\s*param:\s*(\w+)\s+(\w+)(?:\s*=\s*(\S+))?\s*\|\s*(.+)$")


@lru_cache(maxsize=1)
def table_docs() -> dict[str, dict]:
    paths = sorted((SEMANTIC_LAYER / "tables").glob("*.json"))
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in paths}


@lru_cache(maxsize=1)
def business_rules() -> list[BusinessRule]:
    rules: list[BusinessRule] = []
    for path in sorted((SEMANTIC_LAYER / "business").glob("*.json")):
        rules.extend(BusinessRule.model_validate(item) for item in json.loads(path.read_text(encoding="utf-8")))
    return rules


def parse_saved_query(name: str, text: str) -> SavedQuery:
    description, chart, params, body = "", None, [], []
    for line in text.splitlines():
        if line.startswith("-- description:"):
            description = line.split(":", 1)[1].strip()
        elif line.startswith("-- chart:"):
            kind, x, y = line.split(":", 1)[1].split()
            chart = {"kind": kind, "x": x, "y": y}
        elif (match := _PARAM.match(line)) is not None:
            params.append(QueryParam(name=match[1], type=match[2], default=match[3], description=match[4].strip()))
        elif not line.startswith("--"):
            body.append(line)
    if not description:
        raise ValueError(f"saved query {name} has no '-- description:' line")
    return SavedQuery(name=name, description=description, params=params, chart=chart, sql="\n".join(body).strip())


@lru_cache(maxsize=1)
def saved_queries() -> dict[str, SavedQuery]:
    return {p.stem: parse_saved_query(p.stem, p.read_text(encoding="utf-8"))
            for p in sorted((SEMANTIC_LAYER / "queries").glob("*.sql"))}


async def live_tables(conn: psycopg.AsyncConnection) -> list[TableInfo]:
    """The allowed tables as they are in the database now, annotated from tables/*.json."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "WHERE c.table_schema = current_schema() AND c.table_name = ANY(%s) ORDER BY c.table_name, c.ordinal_position",
        (list(ALLOWED_TABLES),))
    columns: dict[str, list[tuple[str, str]]] = {}
    for row in await cur.fetchall():
        columns.setdefault(row["table_name"], []).append((row["column_name"], row["data_type"]))
    await cur.execute("SELECT relname, greatest(reltuples, 0)::bigint AS rows FROM pg_class "
                      "WHERE relname = ANY(%s) AND relkind = 'r'", (list(ALLOWED_TABLES),))
    estimates = {r["relname"]: r["rows"] for r in await cur.fetchall()}
    tables = []
    for name in ALLOWED_TABLES:
        doc = table_docs().get(name, {})
        meanings = doc.get("columns", {})
        tables.append(TableInfo(
            name=name, description=doc.get("description", ""), row_count_estimate=estimates.get(name),
            caveats=doc.get("caveats", []),
            columns=[ColumnInfo(name=c, type=t, meaning=meanings.get(c)) for c, t in columns.get(name, [])]))
    return tables


async def category_rules(conn: psycopg.AsyncConnection) -> dict[str, str]:
    cur = await conn.execute("SELECT category, instructions FROM ai_answerer_instructions WHERE is_active "
                             "ORDER BY category")
    return {row[0]: row[1] for row in await cur.fetchall()}


async def search_learnings(conn: psycopg.AsyncConnection, query: str, limit: int) -> list[Learning]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT id, question, mistake, fix, sql, tags FROM analytics_learnings, "
        "websearch_to_tsquery('english', %(q)s) AS q "
        "WHERE to_tsvector('english', question || ' ' || mistake || ' ' || fix || ' ' || array_to_string(tags, ' "
        "')) @@ q "
        "   OR %(q)s = ANY(tags) "
        "ORDER BY ts_rank(to_tsvector('english', question || ' ' || mistake || ' ' || fix), q) DESC, id DESC "
        "LIMIT %(limit)s",
        {"q": query, "limit": limit},
    )
    return [Learning(**row) for row in await cur.fetchall()]
