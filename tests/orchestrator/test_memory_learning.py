"""Customer memory across conversations and learning from staff corrections, through the whole platform: a discount
is never offered twice, past problems and actions are remembered and reach the model's prompt, `memory forget`
deletes and says what; a staff edit of a draft becomes a lesson (reviewed or auto-accepted by policy) that the next
conversation of the category uses; the bridge posts corrections over HTTP."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from agents.testing import ScriptedModel, assistant_message

from levhaolam.support_commands import learnings_list, learnings_review, memory_forget, memory_show
from orchestrator.app import create_app
from orchestrator.learning import change_ratio, lesson_of, redact
from orchestrator.pipeline import Pipeline
from orchestrator.router import OfflineRouting
from schemas.corrections import CORRECTIONS_PATH
from schemas.turns import Decision
from servers.common.loopback import serve_on_loopback
from servers.knowledge.embeddings import LocalMiniLM
from tests.orchestrator.conftest import Platform, platform_on

SERVICE_TOKEN = "service-token-" + "m" * 40
LEVHAOLAM = str(Path(sys.executable).parent / "levhaolam")


async def memories(platform: Platform, customer_id: int) -> list[tuple[str, str, str]]:
    rows = await (await platform.db.execute(
        "SELECT kind, key, content FROM customer_memories WHERE customer_id = %s ORDER BY kind, key",
        (customer_id,))).fetchall()
    return [tuple(row) for row in rows]


# ---------------------------------------------------------------------------------------------------------------
# Memory.
# ---------------------------------------------------------------------------------------------------------------

async def test_a_discount_is_never_offered_twice(platform: Platform) -> None:
    customer = await platform.customer()
    first = await platform.send("mem-1", "I want to cancel my subscription", email=customer["email"])
    assert "20% off the next box" in first.reply
    assert [b.title for b in first.buttons if "20%" in b.title]
    declined = await platform.send("mem-1", "no")
    assert declined.actions_taken == []
    kinds = [key for kind, key, _ in await memories(platform, customer["id"]) if kind == "retention"]
    assert "offer:discount" in kinds

    # A month later, a new conversation: the other offers again, the discount not.
    second = await platform.send("mem-2", "Please cancel my subscription", email=customer["email"])
    assert "Before you decide" in second.reply and "20%" not in second.reply
    assert not [b for b in second.buttons if "20%" in b.title]


async def test_taking_the_discount_goes_to_a_person_who_applies_it(platform: Platform) -> None:
    customer = await platform.customer(1)
    offered = await platform.send("mem-take", "I want to cancel my subscription", email=customer["email"])
    discount = next(b for b in offered.buttons if "20%" in b.title)
    taken = await platform.send("mem-take", button=discount.value)
    assert taken.decision is Decision.ESCALATE and "brain:retention_offer_taken:discount" in taken.reasons


async def test_problems_actions_and_language_are_remembered_and_reach_the_model(knowledge_url: str,
                                                                                embedder: LocalMiniLM) -> None:
    async with platform_on(knowledge_url, embedder) as platform:
        customer = await platform.customer()
        proposed = await platform.send("mem-ru", "Здравствуйте, пожалуйста, пропустите следующую коробку",
                                       email=customer["email"])
        await platform.send("mem-ru", button=proposed.buttons[0].value)
        remembered = await memories(platform, customer["id"])
        assert ("preference", "language", "writes in Russian") in remembered
        assert any(kind == "fact" and "box is skipped" in content for kind, _, content in remembered), remembered

    model = ScriptedModel([[assistant_message("Конечно! Ваша следующая коробка уже в пути.")]])
    async with platform_on(knowledge_url, embedder, model_for=lambda _name: model, router=OfflineRouting()
                           ) as platform:
        # Later, a short message in a new conversation: the remembered language, and the memory in the prompt.
        reply = await platform.send("mem-later", "box?", email=customer["email"])
        assert reply.category == "shipping_inquiry" and reply.reply.startswith("Конечно")
        prompt = model.calls[0].system_instructions or ""
        assert "What we remember about this customer" in prompt and "writes in Russian" in prompt
        assert "Done before" in prompt and "box is skipped" in prompt


async def test_a_model_offering_the_discount_again_is_held_back(knowledge_url: str, embedder: LocalMiniLM) -> None:
    model = ScriptedModel()
    async with platform_on(knowledge_url, embedder, model_for=lambda _name: model, router=OfflineRouting()
                           ) as platform:
        customer = await platform.customer()
        await platform.db.execute(
            "INSERT INTO customer_memories (customer_id, kind, key, content) VALUES (%s, 'retention', "
            "'offer:discount', %s)", (customer["id"], "2026-10-02: 20% off the next box, once"))
        model.extend([[assistant_message("Before you go: I can give you 20% off your next box if you stay.")]])
        reply = await platform.send("mem-again", "I want to cancel my subscription", email=customer["email"])
        assert reply.decision is Decision.ESCALATE and "output:repeated_offer" in reply.reasons
        assert "Retention offer already made (never offer it again): 2026-10-02: 20% off" in (
            model.calls[0].system_instructions or "")


async def test_memory_show_and_forget_say_what(platform: Platform) -> None:
    customer = await platform.customer()
    await platform.send("mem-forget", "I want to cancel my subscription", email=customer["email"])
    customer_id, email, shown = await memory_show(platform.db, customer["email"].upper())
    assert customer_id == customer["id"] and email == customer["email"] and shown
    _, _, deleted = await memory_forget(platform.db, str(customer["id"]))
    assert sorted(row.id for row in deleted) == sorted(row.id for row in shown)
    assert await memories(platform, customer["id"]) == []
    assert (await memory_forget(platform.db, str(customer["id"])))[2] == []


def run_cli(args: list[str], db_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")} | {"DATABASE_URL": db_url,
                                                                                   "COLUMNS": "200"}
    return subprocess.run([LEVHAOLAM, *args], env=env, capture_output=True, text=True, timeout=120)


async def test_the_memory_and_costs_commands(platform: Platform, knowledge_url: str) -> None:
    customer = await platform.customer()
    await platform.send("mem-cli", "I want to cancel my subscription", email=customer["email"])
    shown = run_cli(["memory", "show", customer["email"]], knowledge_url)
    assert shown.returncode == 0, shown.stderr
    assert f"Customer #{customer['id']}" in shown.stdout and "offer:discount" in shown.stdout
    forgot = run_cli(["memory", "forget", str(customer["id"])], knowledge_url)
    assert forgot.returncode == 0 and "Deleted" in forgot.stdout and "offer:discount" in forgot.stdout
    unknown = run_cli(["memory", "show", "nobody@example.org"], knowledge_url)
    assert unknown.returncode == 1 and "no customer 'nobody@example.org'" in unknown.stderr
    costs = run_cli(["costs", "--since", "2000-01-01"], knowledge_url)
    assert costs.returncode == 0, costs.stderr
    assert "cancel_subscription" in costs.stdout and "offline brain costs nothing" in costs.stdout
    bad = run_cli(["costs", "--since", "last tuesday"], knowledge_url)
    assert bad.returncode == 1 and "is not a date" in bad.stderr


# ---------------------------------------------------------------------------------------------------------------
# Learning from corrections.
# ---------------------------------------------------------------------------------------------------------------

def test_a_lesson_says_what_changed_without_personal_data() -> None:
    personal = {"name": ["Dana", "Levi"], "email": ["dana@example.com"], "phone": [], "address": ["Herzl 5"]}
    draft = redact("Hi Dana, your box (order #51234) ships to Herzl 5. Write to dana@example.com.", personal)
    assert draft == "Hi [NAME], your box (order #[ORDER]) ships to [ADDRESS]. Write to [EMAIL]."
    assert lesson_of("Your box ships on the 5th.", "Your box leaves our warehouse on the 5th.") == (
        'Staff replaced "ships" with "leaves our warehouse".')
    assert 0 < change_ratio("Your box ships on the 5th.", "Your box leaves our warehouse on the 5th.") < 0.5


@contextlib.asynccontextmanager
async def api_for(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    @contextlib.asynccontextmanager
    async def pipeline() -> AsyncIterator[Pipeline]:
        yield platform.pipeline

    async with serve_on_loopback(create_app(pipeline, SERVICE_TOKEN)) as base:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}) as client:
            yield client


async def test_a_staff_edit_of_a_draft_becomes_a_reviewed_lesson_the_model_then_sees(
        knowledge_url: str, embedder: LocalMiniLM) -> None:
    model = ScriptedModel([[assistant_message("Sorry about the double charge. We will look into it.")],
                           [assistant_message("Sorry about that, our billing team will check it.")]])
    async with platform_on(knowledge_url, embedder, model_for=lambda _name: model, router=OfflineRouting()
                           ) as platform, api_for(platform) as api:
        customer = await platform.customer()
        draft = await platform.send("learn-1", "My card was charged twice this month", email=customer["email"])
        assert draft.decision is Decision.DRAFT  # payment_issue: a person reads it first
        sent = ("Sorry about the double charge, Dana. Our billing team checks it today; a confirmed double charge is "
                "refunded in full and takes 5-10 business days to reach your card.")
        posted = await api.post(CORRECTIONS_PATH, json={"conversation_id": "learn-1", "draft": draft.reply,
                                                        "sent_text": sent, "staff": "noa"})
        assert posted.status_code == 200, posted.text
        learned = posted.json()
        assert learned["status"] == "learned" and learned["category"] == "payment_issue"
        assert learned["review"] == "pending" and learned["auto_accepted"] is False  # payment lessons are reviewed
        assert "refunded in full" in learned["lesson"]
        again = (await api.post(CORRECTIONS_PATH, json={"conversation_id": "learn-1", "draft": draft.reply,
                                                        "sent_text": sent, "staff": "noa"})).json()
        assert again["status"] == "already_learned" and again["learning_id"] == learned["learning_id"]

        pending = await learnings_list(platform.db, "pending", "payment_issue")
        assert [row.id for row in pending] == [learned["learning_id"]]
        approved = await learnings_review(platform.db, learned["learning_id"], "approved", "lead.sara")
        assert approved.status == "approved" and approved.reviewed_by == "lead.sara"

        other = await platform.customer(1)
        await platform.send("learn-2", "I was charged twice for the same box", email=other["email"])
        prompt = model.calls[1].system_instructions or ""
        assert "Corrections our staff made to earlier AI drafts" in prompt
        assert "refunded in full and takes 5-10 business days" in prompt


async def test_a_minor_wording_edit_applies_at_once_and_the_offline_brain_sends_it(platform: Platform) -> None:
    async with api_for(platform) as api:
        first = await platform.send("learn-faq-1", "Are your products kosher?")
        assert first.decision is Decision.AUTO_SEND
        better = first.reply.replace("Cosmetics and art", "Our cosmetics and art pieces", 1)
        assert better != first.reply
        learned = (await api.post(CORRECTIONS_PATH, json={"conversation_id": "learn-faq-1", "draft": first.reply,
                                                          "sent_text": better, "staff": "noa"})).json()
        assert learned["review"] == "approved" and learned["auto_accepted"] is True
        second = await platform.send("learn-faq-2", "Are your products kosher?")
        assert second.reply == better

        # An edit adding a number (an amount, a date) waits for a person even in an auto category.
        numbers = (await api.post(CORRECTIONS_PATH, json={
            "conversation_id": "learn-faq-1", "draft": first.reply, "sent_text": first.reply + " Ships in 2 days.",
            "staff": "noa"})).json()
        assert numbers["review"] == "pending" and numbers["auto_accepted"] is False


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"conversation_id": "nope", "draft": "x", "sent_text": "y", "staff": "noa"}, 404, "conversation_id"),
    ({"conversation_id": "learn-bad", "draft": "not what the AI said", "sent_text": "y", "staff": "noa"}, 404,
     "draft"),
    ({"conversation_id": "learn-bad", "draft": "x", "sent_text": "y"}, 422, "staff"),
    ({"conversation_id": "learn-bad", "draft": "", "sent_text": "y", "staff": "noa"}, 422, "draft"),
])
async def test_a_correction_that_matches_no_draft_is_refused(platform: Platform, body: dict[str, Any], status: int,
                                                             field: str) -> None:
    await platform.send("learn-bad", "Are your products kosher?")
    async with api_for(platform) as api:
        response = await api.post(CORRECTIONS_PATH, json=body)
        assert response.status_code == status and response.json()["field"] == field
        unauthorised = await api.post(CORRECTIONS_PATH, json=body, headers={"Authorization": "Bearer wrong"})
        assert unauthorised.status_code == 401


async def test_an_unchanged_draft_teaches_nothing(platform: Platform) -> None:
    first = await platform.send("learn-same", "Are your products kosher?")
    async with api_for(platform) as api:
        same = (await api.post(CORRECTIONS_PATH, json={"conversation_id": "learn-same", "draft": first.reply,
                                                       "sent_text": f"  {first.reply} ", "staff": "noa"})).json()
    assert same == {"status": "unchanged", "category": "general_question", "learning_id": None, "review": None,
                    "auto_accepted": False, "change_ratio": 0.0, "lesson": None}
