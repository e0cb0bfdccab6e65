"""From an orchestrator answer to Chatwoot actions (pure), and the request bodies checked against Chatwoot's
OpenAPI document (tests/fixtures/chatwoot_swagger_subset.json)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bridge.chatwoot import message_body
from bridge.dispatch import (
    DEFAULT_HANDOFF_MESSAGE,
    AssignTeam,
    Handoff,
    Plan,
    PostMessage,
    SetStatus,
    customer_text,
    for_people,
    handoff_note,
    plan,
)
from schemas.turns import TurnResponse
from tests.bridge.standins import BOT_TOKEN, validate_request


def answer(decision: str = "auto_send", reply: str = "Sure.", **extra: Any) -> TurnResponse:
    return TurnResponse.model_validate({"reply": reply, "decision": decision, "category": "skip_month",
                                        "trace_id": "trace-1", "reasons": [f"category_policy:{decision}"]} | extra)


def test_auto_send_posts_the_reply_with_its_buttons() -> None:
    buttons = [{"title": "Yes", "value": "confirm:3"}, {"title": "No", "value": "decline:3"}]
    planned = plan(answer(reply="Skip June?", buttons=buttons), "skip", Handoff(team_id=4))
    assert planned == Plan(actions=[PostMessage(content="Skip June?", buttons=answer(buttons=buttons).buttons)])
    body = message_body(planned.actions[0])  # type: ignore[arg-type]
    assert body == {"content": "Skip June?", "message_type": "outgoing", "private": False,
                    "content_type": "input_select", "content_attributes": {"items": buttons}}


def test_an_empty_auto_send_reply_posts_nothing() -> None:
    assert plan(answer(reply="  "), "hi", Handoff()) == Plan()


def test_a_draft_is_noted_for_the_team_and_the_customer_reads_the_hand_off_message() -> None:
    planned = plan(answer("draft", "Refund of $12 approved.", secondary="damaged_item"), "my jar broke",
                   Handoff(team_id=4))
    note, public, team, status = planned.actions
    assert isinstance(note, PostMessage) and note.private
    assert note.content.splitlines()[:5] == [
        "AI hand-off: the reply needs a person's review before it is sent.",
        "Category: skip_month (and damaged_item)",
        "Why: category_policy:draft",
        "Customer wrote: my jar broke",
        "Done so far: nothing was changed."]
    assert "Draft reply, for you to review and send:\nRefund of $12 approved." in note.content
    assert note.content.endswith("Trace: trace-1")
    assert public == PostMessage(content=DEFAULT_HANDOFF_MESSAGE)
    assert team == AssignTeam(team_id=4) and status == SetStatus(status="open")
    assert planned.handoff


def test_an_escalation_tells_the_customer_the_orchestrators_words_unless_a_message_is_configured() -> None:
    escalated = answer("escalate", "Спасибо! Наш сотрудник скоро ответит.")
    assert plan(escalated, "хочу человека", Handoff()).actions[1] == PostMessage(
        content="Спасибо! Наш сотрудник скоро ответит.")
    assert plan(escalated, "x", Handoff(message="One moment.")).actions[1] == PostMessage(content="One moment.")
    assert plan(answer("escalate", ""), "x", Handoff()).actions[1] == PostMessage(content=DEFAULT_HANDOFF_MESSAGE)
    # No team configured: no assignment, still opened for people.
    assert [a.kind for a in plan(escalated, "x", Handoff()).actions] == ["message", "message", "status"]


def test_the_note_lists_what_was_done_and_quotes_the_customer_within_limits() -> None:
    done = answer("escalate", "held", actions_taken=[{"tool": "skip_month", "summary": "Skipped June"},
                                                     {"tool": "pause_subscription", "summary": "Paused 1 month"}])
    note = handoff_note(done, "x" * 5000)
    assert "Done so far: Skipped June; Paused 1 month" in note
    assert "Customer wrote: " + "x" * 1000 + "..." in note
    assert "The customer was told: held" in note


def test_when_a_person_took_over_everything_becomes_a_note_and_nothing_changes_hands() -> None:
    planned = plan(answer("draft", "Draft."), "hi", Handoff(team_id=4))
    changed = for_people(planned)
    assert all(isinstance(a, PostMessage) and a.private for a in changed.actions)
    assert len(changed.actions) == 2 and changed.actions[1].content.startswith("Not sent: a person took")  # type: ignore[union-attr]
    replied = for_people(plan(answer(reply="Hi!"), "hi", Handoff()))
    assert replied.actions == [PostMessage(content="Not sent: a person took this conversation over before the AI "
                                                   "answered. It would have said:\nHi!", private=True)]


def test_a_plan_survives_its_round_trip_through_the_job_row() -> None:
    planned = plan(answer("draft", "Draft.", buttons=[{"title": "A", "value": "a"}]), "hi", Handoff(team_id=2))
    assert Plan.model_validate(json.loads(json.dumps(planned.model_dump(mode="json")))) == planned


@pytest.mark.parametrize(("text", "button", "photos", "said"), [
    ("hello", None, 0, "hello"), (None, "confirm:1", 0, "(pressed the button 'confirm:1')"),
    (None, None, 1, "(sent 1 photo)"), (None, None, 3, "(sent 3 photos)")])
def test_what_the_customer_sent_in_a_few_words(text: str | None, button: str | None, photos: int, said: str) -> None:
    assert customer_text(text, button, photos) == said


# ------------------------------------------------------------------------------------------- the OpenAPI document
PATH = "/api/v1/accounts/1/conversations/5"
AUTH = {"api_access_token": BOT_TOKEN, "content-type": "application/json"}


@pytest.mark.parametrize("action", [
    PostMessage(content="Hi"), PostMessage(content="Note", private=True),
    PostMessage(content="Q?", buttons=answer(buttons=[{"title": "Yes", "value": "y"}]).buttons)])
def test_every_message_body_the_bridge_sends_fits_the_document(action: PostMessage) -> None:
    assert validate_request("POST", PATH + "/messages", AUTH, json.dumps(message_body(action)).encode()) == (
        "create-a-new-message-in-a-conversation", [])


@pytest.mark.parametrize(("path", "body", "problem"), [
    ("/messages", {"message_type": "outgoing"}, "body: 'content' is a required property"),
    ("/messages", {"content": 5}, "content: 5 is not of type 'string'"),
    ("/messages", {"content": "x", "content_type": "buttons"}, "content_type: 'buttons' is not one of"),
    ("/messages", {"content": "x", "echo": True}, "body: Additional properties are not allowed ('echo'"),
    ("/toggle_status", {"status": "closed"}, "status: 'closed' is not one of"),
    ("/toggle_typing_status", {"typing_status": True}, "typing_status: True is not one of"),
    ("/assignments", {"team_id": "7"}, "team_id: '7' is not of type 'number'"),
])
def test_the_stand_in_refuses_requests_that_break_the_document(path: str, body: dict, problem: str) -> None:
    operation, problems = validate_request("POST", PATH + path, AUTH, json.dumps(body).encode())
    assert operation != "unknown"
    assert any(p.startswith(problem) for p in problems), problems


def test_the_stand_in_refuses_unknown_operations_and_missing_tokens() -> None:
    assert validate_request("POST", PATH + "/labels", AUTH, b'{"labels": ["x"]}')[1] == [
        f"POST {PATH}/labels is not an operation of Chatwoot's API (subset)"]
    assert "no api_access_token header (securitySchemes.agentBotApiKey)" in validate_request(
        "POST", PATH + "/toggle_status", {"content-type": "application/json"}, b'{"status": "open"}')[1]
