"""Concurrent turns: a retry that arrives while the first attempt is still running gets the first answer; two
conversations at once do not wait for each other's locks."""

from __future__ import annotations

import asyncio

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
