"""Concurrent turns: a retry that arrives while the first attempt is still running gets the first answer; two
conversations at once do not wait for each other's locks."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from store import conversations
from tests.orchestrator.conftest import Platform


async def test_a_retry_during_the_first_attempt_replays_its_answer(platform: Platform) -> None:
    customer = await platform.customer()
    first, retry = await asyncio.gather(
        platform.send("c-race", "please pause my subscription for 2 months", email=customer["email"],
                      message_id="same"),
        platform.send("c-race", "please pause my subscription for 2 months", email=customer["email"],
                      message_id="same"))
    assert sorted([first.replayed, retry.replayed]) == [False, True]
    assert first.reply == retry.reply and first.buttons == retry.buttons
    rows = await (await platform.db.execute(
        "SELECT count(*) FROM turns t JOIN conversations c ON c.id = t.conversation_id WHERE c.external_id = "
        "'c-race'")).fetchone()
    assert rows == (1,)
    pending = await (await platform.db.execute("SELECT count(*) FROM pending_actions WHERE status = 'pending'"
                                               )).fetchone()
    assert pending == (1,)


async def test_different_conversations_run_side_by_side(platform: Platform) -> None:
    one, two = await platform.customer(0), await platform.customer(1)
    replies = await asyncio.gather(
        platform.send("c-a", "skip my next box", email=one["email"]),
        platform.send("c-b", "skip my next box", email=two["email"]))
    assert all(reply.buttons for reply in replies)


async def test_a_turn_that_fails_as_it_is_stored_leaves_nothing_and_frees_its_conversation(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = await platform.customer()
    stored = conversations.finish_turn

    async def failing(conn: psycopg.AsyncConnection, **_: Any) -> None:
        await conn.execute("SELECT 1 / 0")  # after the question and the memory were queued in the same transaction

    monkeypatch.setattr(conversations, "finish_turn", failing)
    with pytest.raises(psycopg.errors.DivisionByZero):
        await platform.send("c-fails", "please pause my subscription for 2 months", email=customer["email"],
                            message_id="once")
    held = await (await platform.db.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).fetchone()
    assert held == (0,)
    pending = await (await platform.db.execute(
        "SELECT count(*) FROM pending_actions p JOIN conversations c ON c.id = p.conversation_id "
        "WHERE c.external_id = 'c-fails'")).fetchone()
    assert pending == (0,)

    monkeypatch.setattr(conversations, "finish_turn", stored)
    retried = await asyncio.wait_for(platform.send("c-fails", "please pause my subscription for 2 months",
                                                   email=customer["email"], message_id="once"), 30)
    assert not retried.replayed and [b.title for b in retried.buttons] == ["Yes, go ahead", "No"]
    pending = await (await platform.db.execute(
        "SELECT count(*) FROM pending_actions p JOIN conversations c ON c.id = p.conversation_id "
        "WHERE c.external_id = 'c-fails'")).fetchone()
    assert pending == (1,)
