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
class PendingAction:
    """An action waiting for the customer's yes: what the server will be asked to do, and its sealed token."""

    customer_id: int
    category: str
    server: str
    tool: str
    arguments: dict[str, Any]
    summary: str
    sealed_token: str
    expires_at: datetime


@dataclass(frozen=True)
class PendingActionRow(PendingAction):
    id: int
    asked_in: int | None = None  # the customer message the question answered (None: asked before migration 0027)

    @property
    def button_key(self) -> int:
        """What its yes/no buttons carry: `confirm:<key>`, `decline:<key>`."""
        return self.asked_in if self.asked_in is not None else self.id


@dataclass(frozen=True)
class NewPendingAction(PendingAction):
    """A question for the customer, stored with the turn that asks it."""

    conversation_id: int
    asked_in: int  # the incoming message's row id; its buttons carry it


async def lock_conversation(conn: psycopg.AsyncConnection, external_id: str) -> None:
    """Serialise the turns of one conversation across every replica (released by `unlock_conversation`)."""
    await conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 7))", (external_id,))


async def unlock_conversation(conn: psycopg.AsyncConnection, external_id: str) -> None:
    await conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 7))", (external_id,))


@dataclass(frozen=True)
class IncomingRow:
    conversation: ConversationRow
    message_id: int
    stored_response: dict[str, Any] | None  # the answer already given to this message, if its turn completed
    pending: PendingActionRow | None  # the action waiting for this conversation's yes
    body: str  # the message as first stored under its id: a retry must say the same


_PENDING_COLUMNS = ("id, customer_id, category, server, tool, arguments, summary, sealed_token, expires_at, "
                    "asked_in")


async def open_turn(conn: psycopg.AsyncConnection, external_id: str, channel: str, message_external_id: str,
                    body: str, now: datetime) -> IncomingRow:
    """The conversation (created on first contact), the incoming message and the action waiting for a yes (an
    expired one is closed on the way), in one round trip. The same message id twice is the same message (a retry):
    its stored answer comes back with it."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "WITH conversation AS ("
        "  INSERT INTO conversations (external_id, channel) VALUES (%(conversation)s, %(channel)s) "
        "  ON CONFLICT (external_id) DO UPDATE SET updated_at = now() "
        "  RETURNING id, external_id, customer_id, state), "
        "message AS ("
        "  INSERT INTO messages (conversation_id, direction, author, body, external_id) "
        "  SELECT id, 'incoming', 'customer', %(body)s, %(message)s FROM conversation "
        "  ON CONFLICT (conversation_id, external_id) DO UPDATE SET body = messages.body RETURNING id, body), "
        "expired AS ("
        "  UPDATE pending_actions SET status = 'expired', resolved_at = %(now)s "
        "  WHERE conversation_id = (SELECT id FROM conversation) AND status = 'pending' AND expires_at <= %(now)s "
        "  RETURNING id) "
        "SELECT c.id, c.external_id, c.customer_id, c.state, m.id AS message_id, m.body, "
        "       (SELECT t.response FROM turns t WHERE t.message_id = m.id) AS stored_response, "
        f"      (SELECT to_jsonb(p) FROM (SELECT {_PENDING_COLUMNS} FROM pending_actions "
        "        WHERE conversation_id = c.id AND status = 'pending' AND id NOT IN (SELECT id FROM expired)) p "
        "      ) AS pending "
        "FROM conversation c, message m",
        {"conversation": external_id, "channel": channel, "body": body, "message": message_external_id, "now": now})
    row = await cur.fetchone()
    assert row is not None
    pending = row["pending"]
    return IncomingRow(ConversationRow(row["id"], row["external_id"], row["customer_id"], row["state"]),
                       int(row["message_id"]), row["stored_response"],
                       PendingActionRow(**{**pending, "expires_at": datetime.fromisoformat(pending["expires_at"])})
                       if pending else None, row["body"])


async def finish_turn(conn: psycopg.AsyncConnection, *, conversation_id: int, message_id: int, customer_id: int | None,
                      state: dict[str, Any], status: str, primary: str, secondary: str | None, urgency: str,
                      confidence: float, decision: str, reasons: list[str], model: str | None, latency_ms: int,
                      cost_usd: float, trace_id: str, reply: str, response: dict[str, Any],
                      usage: list[dict[str, Any]] | None = None, guard: dict[str, Any] | None = None) -> None:
    """The turn, the reply and the conversation's new state in one statement: a crash leaves all or none."""
    await conn.execute(
        "WITH turn AS ("
        "  INSERT INTO turns (conversation_id, message_id, primary_category, secondary_category, urgency, confidence, "
        "                     decision, reasons, model, latency_ms, cost_usd, trace_id, response, usage, guard) "
        "  VALUES (%(conversation)s, %(message)s, %(primary)s, %(secondary)s, %(urgency)s, %(confidence)s, "
        "          %(decision)s, %(reasons)s, %(model)s, %(latency)s, %(cost)s, %(trace)s, %(response)s, %(usage)s, "
        "          %(guard)s) "
        "  RETURNING id), "
        "reply AS ("
        "  INSERT INTO messages (conversation_id, direction, author, body) "
        "  SELECT %(conversation)s, 'outgoing', %(author)s, %(reply)s FROM turn RETURNING id) "
        "UPDATE conversations SET customer_id = %(customer)s, state = %(state)s, status = %(status)s, "
        "       updated_at = now() "
        "WHERE id = %(conversation)s AND EXISTS (SELECT 1 FROM reply)",
        {"conversation": conversation_id, "message": message_id, "primary": primary, "secondary": secondary,
         "urgency": urgency, "confidence": confidence, "decision": decision, "reasons": reasons, "model": model,
         "latency": latency_ms, "cost": cost_usd, "trace": trace_id, "response": Jsonb(response),
         "usage": Jsonb(usage or []), "guard": Jsonb(guard) if guard is not None else None,
         "author": "ai" if decision == "auto_send" else "system", "reply": reply or "(no reply)",
         "customer": customer_id, "state": Jsonb(state), "status": status})


async def add_pending_action(conn: psycopg.AsyncConnection, action: NewPendingAction) -> None:
    """Queued in the caller's pipeline and transaction (nothing is read back). A new question replaces an unanswered
    one: the customer moved on."""
    await conn.execute("UPDATE pending_actions SET status = 'declined', resolved_at = now() "
                       "WHERE conversation_id = %s AND status = 'pending'", (action.conversation_id,))
    await conn.execute(
        "INSERT INTO pending_actions (conversation_id, asked_in, customer_id, category, server, tool, arguments, "
        "summary, sealed_token, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (action.conversation_id, action.asked_in, action.customer_id, action.category, action.server, action.tool,
         Jsonb(action.arguments), action.summary, action.sealed_token, action.expires_at))


async def resolve_pending_action(conn: psycopg.AsyncConnection, pending_id: int, status: str) -> None:
    await conn.execute("UPDATE pending_actions SET status = %s, resolved_at = now() WHERE id = %s AND "
                       "status = 'pending'", (status, pending_id))


async def audited(conn: psycopg.AsyncConnection, audit_ids: list[int]) -> bool:
    """True when the servers' audit log shows every one of these actions as executed (or replayed)."""
    if not audit_ids:
        return False
    cur = await conn.execute("SELECT count(*) FROM action_audit WHERE id = ANY(%s) AND outcome IN "
                             "('executed', 'replayed')", (audit_ids,))
    row = await cur.fetchone()
    return row is not None and int(row[0]) == len(set(audit_ids))
