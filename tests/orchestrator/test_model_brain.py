"""The same conversations with a model doing the talking: the real openai-agents runner, driven by a scripted
model (no key, no network), connected to the real MCP servers over HTTP through the turn's pooled connections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from agents.testing import ModelCall, ScriptedModel, assistant_message, function_call

from orchestrator.categories import load_categories
from orchestrator.router import OfflineRouting
from schemas.categories import Category
from schemas.turns import Decision
from servers.knowledge.embeddings import LocalMiniLM
from tests.orchestrator.conftest import Platform, platform_on


@dataclass
class Scripted:
    platform: Platform
    model: ScriptedModel


@pytest.fixture
async def scripted(knowledge_url: str, embedder: LocalMiniLM) -> AsyncIterator[Scripted]:
    model = ScriptedModel()
    async with platform_on(knowledge_url, embedder, model_for=lambda _name: model, router=OfflineRouting()) as running:
        yield Scripted(running, model)


def tool_names(call: ModelCall) -> set[str]:
    return {tool.name for tool in call.tools}


async def test_the_agent_sees_only_its_categorys_tools_and_its_proposal_waits_for_yes(scripted: Scripted) -> None:
    platform, model = scripted.platform, scripted.model
    customer = await platform.customer()
    model.extend([
        [function_call("list_subscriptions", {"customer_id": customer["id"]}, call_id="c1")],
        [function_call("skip_month", {"customer_id": customer["id"], "subscription_id": customer["subscription"],
                                      "box_month": "2027-01-01"}, call_id="c2")],
    ])
    proposed = await platform.send("m-skip", "Please skip my next box", email=customer["email"])
    assert proposed.category == "skip_month" and proposed.reply.startswith("Skip the January 2027 box")
    assert [b.value.split(":")[0] for b in proposed.buttons] == ["confirm", "decline"]

    first = model.calls[0]
    assert tool_names(first) == set(load_categories()[Category.SKIP_MONTH].tool_names)
    instructions = first.system_instructions or ""
    assert f"customer_id {customer['id']}" in instructions and "Change nothing without the customer's explicit yes" \
        in instructions
    assert "cut-off" in instructions  # layer 2: the category's rules from the knowledge server
    # The model never saw a confirmation token: the run stopped at the proposal.
    assert len(model.calls) == 2 and model.remaining_steps == 0

    skips = "SELECT count(*) FROM subscription_skips WHERE subscription_id = %s AND box_month = '2027-01-01'"
    assert (await (await platform.db.execute(skips, (customer["subscription"],))).fetchone())[0] == 0
    done = await platform.send("m-skip", button=proposed.buttons[0].value)
    assert [a.tool for a in done.actions_taken] == ["skip_month"]
    assert (await (await platform.db.execute(skips, (customer["subscription"],))).fetchone())[0] == 1
    assert len(model.calls) == 2  # the yes is handled by code, not by the model


async def test_another_customers_order_is_refused_by_the_server(scripted: Scripted) -> None:
    platform, model = scripted.platform, scripted.model
    customer, other = await platform.customer(0), await platform.customer(1)
    model.extend([
        [function_call("pause_subscription", {"customer_id": other["id"], "subscription_id": other["subscription"],
                                              "months": 1}, call_id="c1")],
        [function_call("pause_subscription", {"customer_id": customer["id"],
                                              "subscription_id": other["subscription"], "months": 1}, call_id="c2")],
        [assistant_message("I could not find that subscription on your account.")],
    ])
    reply = await platform.send("m-other", "Pause subscription for 1 month", email=customer["email"])
    assert reply.buttons == [] and "could not find" in reply.reply
    tool_outputs = [str(item) for call in model.calls[1:] for item in call.input]
    assert sum("not_found" in output for output in tool_outputs) >= 2
    audit = await (await platform.db.execute(
        "SELECT outcome, error_code FROM action_audit WHERE tool = 'pause_subscription' ORDER BY id")).fetchall()
    assert audit == [("refused", "not_found"), ("refused", "not_found")]
    status = "SELECT status FROM subscriptions WHERE id = %s"
    assert (await (await platform.db.execute(status, (other["subscription"],))).fetchone())[0] == "active"


async def test_a_tool_outside_the_category_is_never_called(scripted: Scripted) -> None:
    platform, model = scripted.platform, scripted.model
    customer = await platform.customer()
    # A model tricked into cancelling during a skip conversation: the tool is not in its list, the run fails.
    model.extend([[function_call("cancel_subscription", {"customer_id": customer["id"],
                                                         "subscription_id": customer["subscription"]}, call_id="c1")]])
    reply = await platform.send("m-outside", "skip next month", email=customer["email"])
    assert reply.decision is Decision.ESCALATE and any(r.startswith("brain:dependency_failed") for r in reply.reasons)
    audit = await (await platform.db.execute("SELECT count(*) FROM action_audit WHERE tool = 'cancel_subscription'"
                                             )).fetchone()
    assert audit == (0,)


async def test_a_knowledge_answer_from_the_model_is_sent(scripted: Scripted) -> None:
    platform, model = scripted.platform, scripted.model
    model.extend([
        [function_call("search_knowledge", {"query": "kosher", "namespace": "faq"}, call_id="c1")],
        [assistant_message("Yes: all food products are certified kosher by a recognised Israeli authority.")],
    ])
    reply = await platform.send("m-faq", "Are your products kosher?")
    assert reply.category == "general_question" and reply.decision is Decision.AUTO_SEND
    assert reply.reply.startswith("Yes: all food products are certified kosher")
    assert "kosher certification" in str(model.calls[1].input)  # the passage reached the model


async def test_when_the_model_fails_the_customer_gets_a_holding_reply_and_a_person(scripted: Scripted) -> None:
    from agents.exceptions import ModelBehaviorError

    platform, model = scripted.platform, scripted.model
    model.extend([ModelBehaviorError("the provider returned garbage")])
    reply = await platform.send("m-fail", "Are your products kosher?")
    assert reply.decision is Decision.ESCALATE and "Sorry, something went wrong" in reply.reply
    assert "ModelBehaviorError" not in reply.reply
