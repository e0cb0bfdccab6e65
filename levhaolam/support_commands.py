"""`levhaolam costs`, `levhaolam memory show|forget` and `levhaolam learnings list|approve|reject`: what the AI
cost, what it remembers about a customer, and the lessons staff corrections taught it. The CLI prints; these read
and change the store."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

from schemas.settings import Settings
from store import customer_memory, learnings
from store.customer_memory import MemoryRow
from store.database import check_reachable, database_url
from store.learnings import LearningRow
from store.migrate import migrate


class CommandError(ValueError):
    """A one-line error for the person at the terminal."""


@contextlib.asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[psycopg.AsyncConnection]:
    url = database_url(settings)
    await check_reachable(url, settings.db_connect_timeout_s)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True,
                                                     connect_timeout=settings.db_connect_timeout_s) as conn:
        await migrate(conn)  # the tables these commands read arrived with migration 0012
        yield conn


def parse_moment(value: str, now: datetime) -> datetime:
    """'2026-11-01', '2026-11-01T08:00', '7d' (days before now), 'today'."""
    text = value.strip().lower()
    if text == "today":
        return datetime.combine(now.date(), time(), tzinfo=UTC)
    if re.fullmatch(r"\d+d", text):
        return now - timedelta(days=int(text[:-1]))
    try:
        moment = datetime.fromisoformat(text) if "t" in text or ":" in text else datetime.combine(
            date.fromisoformat(text), time())
    except ValueError:
        raise CommandError(f"{value!r} is not a date (2026-11-01), a time (2026-11-01T08:00), 'today' or a number "
                           "of days ('7d')") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------------------
# costs
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryCost:
    category: str
    turns: int
    conversations: int
    cost_usd: Decimal

    @property
    def per_conversation(self) -> Decimal:
        return self.cost_usd / self.conversations if self.conversations else Decimal(0)


@dataclass(frozen=True)
class ModelCost:
    model: str
    provider: str
    requests: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    thinking_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True)
class CostReport:
    since: datetime
    until: datetime
    categories: list[CategoryCost]
    models: list[ModelCost]
    turns: int
    conversations: int
    cost_usd: Decimal

    @property
    def per_conversation(self) -> Decimal:
        return self.cost_usd / self.conversations if self.conversations else Decimal(0)


async def cost_report(conn: psycopg.AsyncConnection, since: datetime, until: datetime) -> CostReport:
    period = {"since": since, "until": until}
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT primary_category AS category, count(*) AS turns, count(DISTINCT conversation_id) AS conversations, "
        "coalesce(sum(cost_usd), 0) AS cost FROM turns WHERE created_at >= %(since)s AND created_at < %(until)s "
        "GROUP BY 1 ORDER BY cost DESC, category", period)
    categories = [CategoryCost(r["category"], r["turns"], r["conversations"], Decimal(r["cost"]))
                  for r in await cur.fetchall()]
    await cur.execute(
        "SELECT u->>'model' AS model, coalesce(u->>'provider', '-') AS provider, "
        "sum((u->>'requests')::bigint) AS requests, sum((u->>'input_tokens')::bigint) AS input, "
        "sum((u->>'cached_input_tokens')::bigint) AS cached, sum((u->>'output_tokens')::bigint) AS output, "
        "sum((u->>'thinking_tokens')::bigint) AS thinking, sum((u->>'cost_usd')::numeric) AS cost "
        "FROM turns t CROSS JOIN LATERAL jsonb_array_elements(t.usage) u "
        "WHERE t.created_at >= %(since)s AND t.created_at < %(until)s GROUP BY 1, 2 ORDER BY cost DESC, model",
        period)
    models = [ModelCost(r["model"], r["provider"], int(r["requests"]), int(r["input"]), int(r["cached"]),
                        int(r["output"]), int(r["thinking"]), Decimal(r["cost"])) for r in await cur.fetchall()]
    await cur.execute("SELECT count(*) AS turns, count(DISTINCT conversation_id) AS conversations, "
                      "coalesce(sum(cost_usd), 0) AS cost FROM turns WHERE created_at >= %(since)s "
                      "AND created_at < %(until)s", period)
    total = await cur.fetchone()
    assert total is not None
    return CostReport(since, until, categories, models, total["turns"], total["conversations"],
                      Decimal(total["cost"]))


# ---------------------------------------------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------------------------------------------

async def _customer(conn: psycopg.AsyncConnection, who: str) -> tuple[int, str]:
    found = await customer_memory.find_customer(conn, who)
    if found is None:
        raise CommandError(f"no customer {who!r} (give an id or an e-mail address)")
    return found


async def memory_show(conn: psycopg.AsyncConnection, who: str) -> tuple[int, str, list[MemoryRow]]:
    customer_id, email = await _customer(conn, who)
    return customer_id, email, await customer_memory.recall(conn, customer_id, limit=1000)


async def memory_forget(conn: psycopg.AsyncConnection, who: str) -> tuple[int, str, list[MemoryRow]]:
    customer_id, email = await _customer(conn, who)
    return customer_id, email, await customer_memory.forget(conn, customer_id)


# ---------------------------------------------------------------------------------------------------------------
# learnings
# ---------------------------------------------------------------------------------------------------------------

LEARNING_STATUSES = ("pending", "approved", "rejected", "all")


async def learnings_list(conn: psycopg.AsyncConnection, status: str, category: str | None) -> list[LearningRow]:
    if status not in LEARNING_STATUSES:
        raise CommandError(f"--status: {status!r} is not one of {', '.join(LEARNING_STATUSES)}")
    return await learnings.listing(conn, None if status == "all" else status, category)


async def learnings_review(conn: psycopg.AsyncConnection, learning_id: int, status: str, reviewer: str
                           ) -> LearningRow:
    reviewed = await learnings.review(conn, learning_id, status, reviewer)
    if reviewed is None:
        raise CommandError(f"no learning #{learning_id} (see `levhaolam learnings list --status all`)")
    return reviewed
