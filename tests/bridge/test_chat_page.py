"""The local chat page in a real headless Chromium: send a message, see the reply, click a confirmation button,
see a hand-off. And the page's API with bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.turns import TurnRequest
from tests.bridge.browser import chromium_binary, chromium_page
from tests.bridge.conftest import rig_on
from tests.bridge.standins import StandInOrchestrator

CONFIRM = [{"title": "Yes, pause it", "value": "confirm:9"}, {"title": "No", "value": "decline:9"}]


def script(request: TurnRequest) -> dict:
    base = {"decision": "auto_send", "category": "pause_subscription", "trace_id": request.message_id,
            "reasons": ["category_policy:auto_send"]}
    if request.button_value == "confirm:9":
        return base | {"reply": "Done: subscription #12 is paused until 2027-02-05.",
                       "actions_taken": [{"tool": "pause_subscription", "summary": "Paused #12 for 2 months"}]}
    if request.text and "person" in request.text:
        return base | {"reply": "A member of our team will take it from here.", "decision": "escalate",
                       "reasons": ["customer_asked_for_human"], "category": "other"}
    return base | {"reply": "Pause subscription #12 for 2 months; next box ships 2027-03-05. Shall I go ahead?",
                   "buttons": CONFIRM}


async def test_a_customer_chats_clicks_a_confirmation_and_sees_a_hand_off(migrated_db: str, tmp_path: Path) -> None:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary on this machine (Debian: apt-get install chromium)")
    orchestrator = StandInOrchestrator(script)
    async with rig_on(migrated_db, orchestrator=orchestrator) as rig, chromium_page(binary) as page:
        await page.goto(rig.bridge_url + "/")
        assert await page.evaluate("document.title") == "Lev Haolam support: local chat"
        await page.type("#email", "dana@example.com")
        await page.type("#text", "Please pause my subscription for 2 months")
        await page.click("#send")
        await page.wait_for("document.querySelectorAll('.buttons button').length === 2")
        question = await page.evaluate("document.querySelector('[data-testid=bot-message]').firstChild.textContent")
        assert question.startswith("Pause subscription #12 for 2 months")
        assert orchestrator.requests[0].contact.email == "dana@example.com"

        await page.click(".buttons button[data-value='confirm:9']")
        await page.wait_for("[...document.querySelectorAll('[data-testid=bot-message]')]"
                            ".some(m => m.textContent.startsWith('Done: subscription #12 is paused'))")
        assert orchestrator.requests[1].button_value == "confirm:9"
        assert await page.evaluate("[...document.querySelectorAll('.buttons button')].map(b => b.disabled)") == [
            True, True]
        assert await page.evaluate("document.querySelector('.buttons button.chosen').textContent") == "Yes, pause it"

        await page.type("#text", "I want to talk to a person")
        await page.click("#send")
        await page.wait_for("document.querySelector('[data-testid=handoff]') !== null")
        note = await page.evaluate("document.querySelector('.note').textContent")
        assert "Note for the team" in note and "customer_asked_for_human" in note
        shown = await page.evaluate("[...document.querySelectorAll('[data-testid=bot-message]')]"
                                    ".map(m => m.firstChild.textContent)")
        assert shown[-1] == "A member of our team will take it from here."
        # One conversation throughout, as a Chatwoot conversation would be.
        assert len({r.conversation_id for r in orchestrator.requests}) == 1
        await page.screenshot(tmp_path / "chat.png")  # what a person saw, kept with the test's files


async def test_the_chat_api_refuses_bad_input_with_typed_errors(migrated_db: str) -> None:
    async with rig_on(migrated_db) as rig:
        empty = await rig.http.post(rig.bridge_url + "/chat/turns", json={"conversation_id": "page-1",
                                                                           "message_id": "m1", "text": " "})
        assert empty.status_code == 422
        assert empty.json() == {"code": "invalid_argument", "field": "text",
                                "message": "a turn needs text, a button_value or attachments"}
        bad_id = await rig.http.post(rig.bridge_url + "/chat/turns", json={"conversation_id": "a b",
                                                                            "message_id": "m1", "text": "hi"})
        assert bad_id.status_code == 422 and bad_id.json()["field"] == "conversation_id"
        rig.orchestrator.down = True
        down = await rig.http.post(rig.bridge_url + "/chat/turns", json={"conversation_id": "page-1",
                                                                          "message_id": "m2", "text": "hi"})
        assert down.status_code == 503 and down.json()["code"] == "unavailable"
