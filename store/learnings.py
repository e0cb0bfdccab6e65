"""SQL of lessons learned from staff corrections of AI drafts (`category_learnings`, migration 0012)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row


@dataclass(frozen=True)
class LearningRow:
    id: int
    category: str
    language: str
    draft: str
    sent_text: str
    lesson: str
    change_ratio: float
    status: str
    auto_accepted: bool
    policy_note: str
    staff: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    created_at: datetime
    conversation_id: int | None


_COLUMNS = ("id, category, language, draft, sent_text, lesson, change_ratio, status, auto_accepted, policy_note, "
            "staff, reviewed_by, reviewed_at, created_at, conversation_id")


@dataclass(frozen=True)
class DraftedTurn:
    """An AI reply of a conversation that staff may have edited."""

    conversation_id: int
    turn_id: int
    category: str
    language: str
    reply: str
    customer_id: int | None


async def drafted_turns(conn: psycopg.AsyncConnection, external_id: str, limit: int = 20) -> list[DraftedTurn]:
    """The conversation's latest AI replies (as sent, or as drafted before a guardrail held them back)."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT c.id AS conversation_id, t.id AS turn_id, t.primary_category AS category, "
        "       coalesce(c.state->>'language', 'en') AS language, c.customer_id, "
        "       t.response->>'reply' AS reply, t.guard->>'blocked_reply' AS blocked "
        "FROM conversations c JOIN turns t ON t.conversation_id = c.id "
        "WHERE c.external_id = %s ORDER BY t.id DESC LIMIT %s", (external_id, limit))
    found: list[DraftedTurn] = []
    for row in await cur.fetchall():
        for reply in (row["reply"], row["blocked"]):
            if reply:
                found.append(DraftedTurn(row["conversation_id"], row["turn_id"], row["category"],
                                         row["language"][:2], reply, row["customer_id"]))
    return found


async def conversation_exists(conn: psycopg.AsyncConnection, external_id: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM conversations WHERE external_id = %s", (external_id,))
    return await cur.fetchone() is not None


async def personal_data(conn: psycopg.AsyncConnection, customer_id: int) -> dict[str, list[str]]:
    """What identifies the customer in a text: names, e-mail, phone, address lines (for redaction)."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT first_name, last_name, email, phone FROM customers WHERE id = %s", (customer_id,))
    row = await cur.fetchone()
    if row is None:
        return {}
    await cur.execute("SELECT line1, line2, city, postal_code FROM addresses WHERE customer_id = %s", (customer_id,))
    addresses = await cur.fetchall()
    return {"name": [v for v in (row["first_name"], row["last_name"]) if v],
            "email": [row["email"]] if row["email"] else [], "phone": [row["phone"]] if row["phone"] else [],
            "address": [v for a in addresses for v in (a["line1"], a["line2"], a["postal_code"]) if v]}


async def insert(conn: psycopg.AsyncConnection, *, category: str, language: str, conversation_id: int, turn_id: int,
                 draft: str, sent_text: str, lesson: str, change_ratio: float, status: str, auto_accepted: bool,
                 policy_note: str, staff: str) -> tuple[LearningRow, bool]:
    """The learning, and whether it is new (the same correction posted again returns the first one)."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "INSERT INTO category_learnings (category, language, conversation_id, turn_id, draft, sent_text, lesson, "
        "change_ratio, status, auto_accepted, policy_note, staff, reviewed_by, reviewed_at) "
        "VALUES (%(category)s, %(language)s, %(conversation)s, %(turn)s, %(draft)s, %(sent)s, %(lesson)s, %(ratio)s, "
        "%(status)s, %(auto)s, %(note)s, %(staff)s, %(reviewer)s, CASE WHEN %(status)s = 'pending' THEN NULL "
        "ELSE now() END) "
        f"ON CONFLICT (conversation_id, md5(draft), md5(sent_text)) DO NOTHING RETURNING {_COLUMNS}",
        {"category": category, "language": language, "conversation": conversation_id, "turn": turn_id,
         "draft": draft, "sent": sent_text, "lesson": lesson, "ratio": change_ratio, "status": status,
         "auto": auto_accepted, "note": policy_note, "staff": staff,
         "reviewer": "policy:auto_minor" if auto_accepted else None})
    row = await cur.fetchone()
    if row is not None:
        return LearningRow(**row), True
    await cur.execute(f"SELECT {_COLUMNS} FROM category_learnings WHERE conversation_id = %s AND md5(draft) = md5(%s) "
                      "AND md5(sent_text) = md5(%s)", (conversation_id, draft, sent_text))
    existing = await cur.fetchone()
    assert existing is not None
    return LearningRow(**existing), False


async def ask_relevant(conn: psycopg.AsyncConnection, category: str, text: str, language: str, k: int = 3
                       ) -> psycopg.AsyncCursor[dict[str, Any]]:
    """Approved lessons of the category, the customer's language first, then the closest in words, then the newest.
    The query goes out now and `relevant_rows` reads it: asked in a pipeline beside others, they share a round trip."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        f"SELECT {_COLUMNS} FROM category_learnings WHERE category = %(category)s AND status = 'approved' "
        "ORDER BY (language = %(language)s) DESC, "
        "ts_rank(search, plainto_tsquery('simple', %(text)s)) DESC, created_at DESC LIMIT %(k)s",
        {"category": category, "language": language, "text": text[:1000], "k": k})
    return cur


async def relevant_rows(cur: psycopg.AsyncCursor[dict[str, Any]]) -> list[LearningRow]:
    return [LearningRow(**row) for row in await cur.fetchall()]


async def listing(conn: psycopg.AsyncConnection, status: str | None, category: str | None, limit: int = 100
                  ) -> list[LearningRow]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(f"SELECT {_COLUMNS} FROM category_learnings WHERE (%(status)s::text IS NULL OR status = "
                      "%(status)s) AND (%(category)s::text IS NULL OR category = %(category)s) "
                      "ORDER BY id DESC LIMIT %(limit)s", {"status": status, "category": category, "limit": limit})
    return [LearningRow(**row) for row in await cur.fetchall()]


async def review(conn: psycopg.AsyncConnection, learning_id: int, status: str, reviewer: str) -> LearningRow | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(f"UPDATE category_learnings SET status = %s, reviewed_by = %s, reviewed_at = now() "
                      f"WHERE id = %s RETURNING {_COLUMNS}", (status, reviewer, learning_id))
    row: dict[str, Any] | None = await cur.fetchone()
    return LearningRow(**row) if row else None
