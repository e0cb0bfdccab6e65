"""The bridge end to end between a stand-in Chatwoot and a stand-in orchestrator: webhooks in, jobs in PostgreSQL,
workers, the Chatwoot calls out (each validated against Chatwoot's OpenAPI document by the stand-in)."""

from __future__ import annotations

import asyncio

import pytest

from bridge.dispatch import DEFAULT_HANDOFF_MESSAGE, Handoff
from schemas.turns import TurnRequest
from store import bridge_jobs as jobs
from tests.bridge import payloads
from tests.bridge.conftest import Rig, rig_on
from tests.bridge.standins import StandInChatwoot, StandInOrchestrator, auto_send

CONFIRM = [{"title": "Yes", "value": "confirm:5"}, {"title": "No", "value": "decline:5"}]


def confirm_then_done(request: TurnRequest) -> dict:
    if request.button_value == "confirm:5":
        return {"reply": "Done: subscription #12 is paused until 2027-02-05.", "decision": "auto_send",
                "category": "pause_subscription", "trace_id": "t2", "reasons": ["category_policy:auto_send"],
                "actions_taken": [{"tool": "pause_subscription", "summary": "Paused subscription #12 for 2 months"}]}
    return {"reply": "Pause subscription #12 for 2 months; next box ships 2027-03-05. Shall I go ahead?",
            "buttons": CONFIRM, "decision": "auto_send", "category": "pause_subscription", "trace_id": "t1",
            "reasons": ["category_policy:auto_send"]}


async def test_a_customer_message_is_answered_once_in_its_conversation(rig: Rig) -> None:
    answer = await rig.deliver(payloads.incoming("Where is my box?", conversation=6, message_id=126))
    assert answer.status_code == 200 and answer.json()["status"] == "queued"
    await rig.drain()
    assert [m["content"] for m in rig.chatwoot.messages(6)] == ["Hello! How can I help?"]
    assert rig.chatwoot.messages(6)[0] == {"content": "Hello! How can I help?", "message_type": "outgoing",
                                           "private": False}
    sent = rig.orchestrator.requests[0]
    assert (sent.conversation_id, sent.message_id, sent.text) == ("cw-1-6", "cw-1-m126", "Where is my box?")
    # Typing on while the orchestrator thinks, off afterwards.
    typing = [c.body["typing_status"] for c in rig.chatwoot.ops("toggle-typing-status-of-a-conversation", 6)]
    assert typing == ["on", "off"]
    assert rig.chatwoot.violations == []
    assert await rig.states() == {"done": 1}


async def test_buttons_go_out_as_input_select_and_a_click_comes_back_as_the_button_value(migrated_db: str) -> None:
    async with rig_on(migrated_db, orchestrator=StandInOrchestrator(confirm_then_done)) as rig:
        await rig.deliver(payloads.incoming("Please pause my subscription for 2 months", conversation=49,
                                            message_id=700))
        await rig.drain()
        [question] = rig.chatwoot.messages(49)
        assert question["content_type"] == "input_select"
        assert question["content_attributes"] == {"items": CONFIRM}

        click = payloads.button_answer("confirm:5", "Yes", conversation=49, message_id=9000)
        assert (await rig.deliver(click)).json()["status"] == "queued"
        assert (await rig.deliver(click)).json()["status"] == "duplicate"  # message_updated fires again later
        await rig.drain()
        assert rig.orchestrator.requests[-1].button_value == "confirm:5"
        assert [m["content"] for m in rig.chatwoot.messages(49)][-1].startswith("Done: subscription #12 is paused")
        assert len(rig.chatwoot.messages(49)) == 2
        assert rig.chatwoot.violations == []


@pytest.mark.parametrize("decision", ["draft", "escalate"])
async def test_a_hand_off_leaves_a_note_tells_the_customer_assigns_the_team_and_opens_the_conversation(
        migrated_db: str, decision: str) -> None:
    reply = ("Your refund of $39 is on its way." if decision == "draft"
             else "Thank you for your message. A member of our team will take it from here.")
    script = auto_send(reply, decision=decision, category="damaged_item", reasons=["category_policy:" + decision],
                       actions_taken=[{"tool": "create_damage_claim", "summary": "Opened damage claim #88"}])
    async with rig_on(migrated_db, orchestrator=StandInOrchestrator(script)) as rig:
        await rig.deliver(payloads.incoming("The honey jar arrived broken", conversation=50, message_id=800))
        await rig.drain()
        note, public = rig.chatwoot.messages(50)
        assert note["private"] is True and public["private"] is False
        assert "Category: damaged_item" in note["content"] and f"category_policy:{decision}" in note["content"]
        assert "Customer wrote: The honey jar arrived broken" in note["content"]
        assert "Opened damage claim #88" in note["content"]
        if decision == "draft":
            assert "Draft reply, for you to review and send:\nYour refund of $39 is on its way." in note["content"]
            assert public["content"] == DEFAULT_HANDOFF_MESSAGE  # the draft itself is not sent
        else:
            assert public["content"] == reply  # the orchestrator's words, in the customer's language
        assert [c.body for c in rig.chatwoot.ops("assign-a-conversation", 50)] == [{"team_id": 7}]
        assert [c.body for c in rig.chatwoot.ops("toggle-status-of-a-conversation", 50)] == [{"status": "open"}]
        # The conversation is people's now: the customer's next message is theirs, not the bot's.
        after = await rig.deliver(payloads.incoming("Hello?", conversation=50, message_id=801, status="open"))
        assert after.json() == {"status": "ignored", "reason": "the conversation is not the bot's"}
        assert rig.chatwoot.violations == []


async def test_the_configured_hand_off_message_and_no_team(migrated_db: str) -> None:
    script = auto_send("held", decision="escalate", reasons=["customer_asked_for_human"])
    async with rig_on(migrated_db, handoff=Handoff(team_id=None, message="Un instant, un conseiller arrive."),
                      orchestrator=StandInOrchestrator(script)) as rig:
        await rig.deliver(payloads.incoming("Je veux parler à quelqu'un", conversation=51, message_id=810))
        await rig.drain()
        assert rig.chatwoot.messages(51, private=False)[0]["content"] == "Un instant, un conseiller arrive."
        assert rig.chatwoot.ops("assign-a-conversation", 51) == []
        assert len(rig.chatwoot.ops("toggle-status-of-a-conversation", 51)) == 1


async def test_duplicates_and_replays_produce_exactly_one_reply(rig: Rig) -> None:
    message = payloads.incoming("Is my box shipped?", conversation=60, message_id=900)
    first = await rig.deliver(message, delivery="d-1")
    # Chatwoot's own retry (same delivery id), the same message under other delivery ids, and a replayed old
    # delivery with a stale timestamp.
    again = [await rig.deliver(message, delivery="d-1") for _ in range(2)]
    others = [await rig.deliver(message, delivery=f"d-{n}") for n in (2, 3)]
    stale = await rig.deliver(message, delivery="d-1", timestamp=1_700_000_000)
    assert first.json()["status"] == "queued"
    assert [r.json()["status"] for r in again + others] == ["duplicate"] * 4
    assert stale.status_code == 401
    # Two workers at once.
    await asyncio.gather(rig.drain(rig.worker()), rig.drain(rig.worker()))
    assert len(rig.chatwoot.messages(60)) == 1
    assert len(rig.orchestrator.requests) == 1
    assert await rig.states() == {"done": 1}


async def test_one_conversation_is_answered_in_order_one_message_at_a_time(migrated_db: str) -> None:
    orchestrator = StandInOrchestrator(lambda r: {"reply": f"answer to {r.text}", "decision": "auto_send",
                                                  "category": "other", "trace_id": r.message_id})
    async with rig_on(migrated_db, orchestrator=orchestrator) as rig:
        for n in range(5):
            await rig.deliver(payloads.incoming(f"m{n}", conversation=70, message_id=1000 + n))
            await rig.deliver(payloads.incoming(f"other{n}", conversation=71, message_id=2000 + n))
        workers = [rig.worker(concurrency=1) for _ in range(3)]
        await asyncio.gather(*(rig.drain(w) for w in workers))
        assert [m["content"] for m in rig.chatwoot.messages(70)] == [f"answer to m{n}" for n in range(5)]
        assert [m["content"] for m in rig.chatwoot.messages(71)] == [f"answer to other{n}" for n in range(5)]
        # Never two turns of one conversation at once: the orchestrator saw each conversation's messages in order.
        assert [r.text for r in orchestrator.requests if r.conversation_id == "cw-1-70"] == [f"m{n}" for n in range(5)]


async def test_a_person_who_took_over_before_the_worker_ran_gets_no_bot_reply(rig: Rig) -> None:
    await rig.deliver(payloads.incoming("Hi", conversation=80, message_id=1100))
    rig.chatwoot.statuses[80] = "open"  # an agent picked the conversation up
    await rig.drain()
    assert rig.chatwoot.messages(80) == [] and rig.orchestrator.requests == []
    [row] = await rig.sql("SELECT outcome FROM bridge_jobs")
    assert row[0] == "not answered: a person owns the conversation"


async def test_a_person_who_took_over_while_the_bot_was_thinking_gets_the_answer_as_a_note(migrated_db: str) -> None:
    orchestrator = StandInOrchestrator(hold=asyncio.Event())
    async with rig_on(migrated_db, orchestrator=orchestrator) as rig:
        await rig.deliver(payloads.incoming("Hi", conversation=81, message_id=1200))
        draining = asyncio.create_task(rig.drain())
        await asyncio.wait_for(orchestrator.entered.wait(), 5)
        rig.chatwoot.statuses[81] = "open"
        assert orchestrator.hold is not None
        orchestrator.hold.set()
        await draining
        [note] = rig.chatwoot.messages(81)
        assert note["private"] is True
        assert note["content"].startswith("Not sent: a person took this conversation over")
        assert rig.chatwoot.messages(81, private=False) == []


async def test_an_older_chatwoot_that_refuses_bots_reads_uses_the_status_from_webhooks(migrated_db: str) -> None:
    chatwoot = StandInChatwoot(bots_may_read=False)
    async with rig_on(migrated_db, chatwoot=chatwoot) as rig:
        chatwoot.webhook_secret = None  # echoes unsigned here: refused (401) and so not needed by this test
        await rig.deliver(payloads.incoming("Hi", conversation=24, message_id=1300))
        await rig.deliver(payloads.status_changed("open", conversation=24))  # an agent took it
        await rig.deliver(payloads.incoming("Hi again", conversation=25, message_id=1301))
        await rig.drain()
        assert rig.chatwoot.messages(24) == []
        assert [m["content"] for m in rig.chatwoot.messages(25)] == ["Hello! How can I help?"]
        # Typing refused once (401), then not asked again.
        assert len([c for c in chatwoot.calls if c.operation == "toggle-typing-status-of-a-conversation"]) == 1


async def test_chatwoot_down_then_up_the_reply_arrives_after_recovery(rig: Rig) -> None:
    rig.chatwoot.down = True
    await rig.deliver(payloads.incoming("Hello", conversation=90, message_id=1400))
    worker = rig.worker()
    for _ in range(3):
        await worker.run_once()
        await asyncio.sleep(0.3)
    [row] = await rig.sql("SELECT state, attempts, last_error FROM bridge_jobs")
    assert row[0] == "queued" and row[1] >= 2 and "503" in row[2]
    assert rig.chatwoot.messages(90) == []
    rig.chatwoot.down = False
    await rig.drain(worker)
    assert [m["content"] for m in rig.chatwoot.messages(90)] == ["Hello! How can I help?"]
    assert await rig.states() == {"done": 1}


async def test_the_orchestrator_down_then_up(rig: Rig) -> None:
    rig.orchestrator.down = True
    await rig.deliver(payloads.incoming("Hello", conversation=91, message_id=1500))
    worker = rig.worker()
    await worker.run_once()
    [row] = await rig.sql("SELECT state, last_error FROM bridge_jobs")
    assert row[0] == "queued" and "503" in row[1]
    rig.orchestrator.down = False
    await rig.drain(worker)
    assert len(rig.chatwoot.messages(91)) == 1


async def test_a_refused_call_is_a_dead_letter_at_once_and_a_replay_posts_once(rig: Rig) -> None:
    # Status read, typing on, status read again before posting: fine; the post: conversation not found.
    rig.chatwoot.fail_next = [200, 200, 200, 404]
    await rig.deliver(payloads.incoming("Hello", conversation=92, message_id=1600))
    await rig.drain()
    async with rig.pool.connection() as conn:
        [dead] = await jobs.dead_letters(conn)
        assert dead.attempts == 1 and "404" in (dead.last_error or "")
        assert await jobs.replay(conn, dead.id)
        assert not await jobs.replay(conn, dead.id)  # only dead letters are replayed
    await rig.drain()
    assert len(rig.chatwoot.messages(92)) == 1
    # The job kept its plan: the orchestrator was not asked again.
    assert len(rig.orchestrator.requests) == 1


async def test_after_max_attempts_a_job_is_a_dead_letter_with_the_reason(rig: Rig) -> None:
    rig.chatwoot.down = True
    await rig.deliver(payloads.incoming("Hello", conversation=93, message_id=1700))
    await rig.drain(rig.worker(max_attempts=3))
    [row] = await rig.sql("SELECT state, attempts, last_error FROM bridge_jobs")
    assert row[0] == "dead" and row[1] == 3
    assert row[2].startswith("gave up after 3 tries: Chatwoot answered 503")


async def test_a_photo_reaches_the_orchestrator_as_an_attachment(rig: Rig) -> None:
    await rig.deliver(payloads.photo(account=1, conversation=94))
    await rig.drain()
    [request] = rig.orchestrator.requests
    assert [str(a.url) for a in request.attachments] == [
        "https://cdn.example.com/rails/active_storage/blobs/broken-jar.jpg"]
    assert request.channel.value == "whatsapp"


async def test_a_job_that_breaks_the_worker_becomes_a_dead_letter_and_the_others_go_on(rig: Rig) -> None:
    await rig.deliver(payloads.incoming("first", conversation=95, message_id=1800))
    await rig.deliver(payloads.incoming("second", conversation=96, message_id=1801))
    await rig.sql("UPDATE bridge_jobs SET request = '{\"not\": \"a turn\"}' WHERE conversation_id = 95 RETURNING id")
    await rig.drain(rig.worker(max_attempts=2))
    [(state, error)] = await rig.sql("SELECT state, last_error FROM bridge_jobs WHERE conversation_id = 95")
    assert state == "dead" and error.startswith("gave up after 2 tries: unexpected ValidationError")
    assert len(rig.chatwoot.messages(96)) == 1
