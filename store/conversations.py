"""SQL of live conversations: the conversation and its working state, messages, turns, and actions waiting for
the customer's yes. The orchestrator calls these; nothing else writes these tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class ConversationRow:
    id: int
    external_id: str
    customer_id: int | None
    state: dict[str, Any]


@dataclass(frozen=True)
class PendingActionRow:
    id: int
    customer_id: int
    category: str
    server: str
    tool: str
    arguments: dict[str, Any]
    summary: str
    sealed_token: str
    expires_at: datetime


async def lock_conversation(conn: psycopg.AsyncConnection, external_id: str) -> None:
    """Serialise the turns of one conversation across every replica (released by `unlock_conversation`)."""
    await conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 7))", (external_id,))


async def unlock_conversation(conn: psycopg.AsyncConnection, external_id: str) -> None:
    await conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 7))", (external_id,))


async def open_conversation(conn: psycopg.AsyncConnection, external_id: str, channel: str) -> ConversationRow:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "INSERT INTO conversations (external_id, channel) VALUES (%s, %s) "
        "ON CONFLICT (external_id) DO UPDATE SET updated_at = now() "
        "RETURNING id, external_id, customer_id, state", (external_id, channel))
    row = await cur.fetchone()
    assert row is not None
    return ConversationRow(**row)


async def save_state(conn: psycopg.AsyncConnection, conversation_id: int, customer_id: int | None,
                     state: dict[str, Any], status: str | None = None) -> None:
    await conn.execute(
        "UPDATE conversations SET customer_id = %s, state = %s, status = coalesce(%s, status), updated_at = now() "
        "WHERE id = %s", (customer_id, Jsonb(state), status, conversation_id))


async def record_incoming(conn: psycopg.AsyncConnection, conversation_id: int, external_id: str, body: str) -> int:
    """The message's row id; the same external id twice is the same message (a retry)."""
    cur = await conn.execute(
        "INSERT INTO messages (conversation_id, direction, author, body, external_id) "
        "VALUES (%s, 'incoming', 'customer', %s, %s) "
        "ON CONFLICT (conversation_id, external_id) DO UPDATE SET body = messages.body RETURNING id",
        (conversation_id, body, external_id))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def stored_response(conn: psycopg.AsyncConnection, message_id: int) -> dict[str, Any] | None:
    """The answer already given to this message, if its turn completed."""
    cur = await conn.execute("SELECT response FROM turns WHERE message_id = %s", (message_id,))
    row = await cur.fetchone()
    return row[0] if row else None


async def record_turn(conn: psycopg.AsyncConnection, *, conversation_id: int, message_id: int, primary: str,
                      secondary: str | None, urgency: str, confidence: float, decision: str, reasons: list[str],
                      model: str | None, latency_ms: int, cost_usd: float, trace_id: str, reply: str,
                      response: dict[str, Any]) -> None:
    """The turn and the reply, in one transaction: a crash leaves either both or neither."""
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO turns (conversation_id, message_id, primary_category, secondary_category, urgency, "
            "confidence, decision, reasons, model, latency_ms, cost_usd, trace_id, response) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (conversation_id, message_id, primary, secondary, urgency, confidence, decision, reasons, model,
             latency_ms, cost_usd, trace_id, Jsonb(response)))
        await conn.execute(
            "INSERT INTO messages (conversation_id, direction, author, body) VALUES (%s, 'outgoing', %s, %s)",
            (conversation_id, "ai" if decision == "auto_send" else "system", reply or "(no reply)"))


async def open_pending_action(conn: psycopg.AsyncConnection, conversation_id: int, now: datetime
                              ) -> PendingActionRow | None:
    """The action waiting for this conversation's yes; an expired one is closed on the way."""
    await conn.execute(
        "UPDATE pending_actions SET status = 'expired', resolved_at = %s "
        "WHERE conversation_id = %s AND status = 'pending' AND expires_at <= %s", (now, conversation_id, now))
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT id, customer_id, category, server, tool, arguments, summary, sealed_token, expires_at "
        "FROM pending_actions WHERE conversation_id = %s AND status = 'pending'", (conversation_id,))
    row = await cur.fetchone()
    return PendingActionRow(**row) if row else None


async def add_pending_action(conn: psycopg.AsyncConnection, *, conversation_id: int, customer_id: int,
                             category: str, server: str, tool: str, arguments: dict[str, Any], summary: str,
                             sealed_token: str, expires_at: datetime) -> int:
    # A new question replaces an unanswered one: the customer moved on.
    await conn.execute("UPDATE pending_actions SET status = 'declined', resolved_at = now() "
                       "WHERE conversation_id = %s AND status = 'pending'", (conversation_id,))
    cur = await conn.execute(
        "INSERT INTO pending_actions (conversation_id, customer_id, category, server, tool, arguments, summary, "
        "sealed_token, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (conversation_id, customer_id, category, server, tool, Jsonb(arguments), summary, sealed_token, expires_at))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def resolve_pending_action(conn: psycopg.AsyncConnection, pending_id: int, status: str) -> None:
    await conn.execute("UPDATE pending_actions SET status = %s, resolved_at = now() WHERE id = %s AND "
                       "status = 'pending'", (status, pending_id))
