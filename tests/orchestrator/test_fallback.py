"""Models per category through the whole platform: Claude through the Anthropic adapter (recorded responses from the
stand-in) for cancellations, with extended thinking and the real MCP tools; a provider outage falls back to the
category's fallback model, then to the offline playbooks; the customer never reads anything technical; each turn's
cost is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from agents import Model
from agents.testing import ScriptedModel, assistant_message
from agents.usage import Usage
from anthropic import AsyncAnthropic

from orchestrator.anthropic_model import AnthropicModel
from orchestrator.providers import ModelUnavailable, RetryPolicy
from orchestrator.router import OfflineRouting
from schemas.turns import Decision
from servers.knowledge.embeddings import LocalMiniLM
from tests.orchestrator.anthropic_standin import AnthropicStandIn, anthropic_standin
from tests.orchestrator.conftest import Platform, platform_on

TECHNICAL = ("529", "overload", "rate limit", "Anthropic", "OpenAI", "error", "model", "timeout")


@dataclass
class Models:
    platform: Platform
    scripted: dict[str, ScriptedModel]
    standin: AnthropicStandIn


async def _no_wait(_: float) -> None:
    return None


@pytest.fixture
async def models(knowledge_url: str, embedder: LocalMiniLM) -> AsyncIterator[Models]:
    scripted: dict[str, ScriptedModel] = {}
    async with anthropic_standin() as standin:
        client = AsyncAnthropic(api_key="sk-ant-test", base_url=standin.base_url, timeout=5)

        def model_for(name: str) -> Model:
            if name == "claude-sonnet-4-6":
                return AnthropicModel(name, client, retry=RetryPolicy(max_retries=2), sleep=_no_wait)
            return scripted.setdefault(name, ScriptedModel())

        async with platform_on(knowledge_url, embedder, model_for=model_for, router=OfflineRouting()) as platform:
            yield Models(platform, scripted, standin)


def script(models: Models, name: str) -> ScriptedModel:
    return models.scripted.setdefault(name, ScriptedModel())


async def turn_row(platform: Platform, conversation: str) -> tuple[Any, ...]:
    row = await (await platform.db.execute(
        "SELECT t.model, t.cost_usd, t.usage FROM turns t JOIN conversations c ON c.id = t.conversation_id "
        "WHERE c.external_id = %s ORDER BY t.id DESC LIMIT 1", (conversation,))).fetchone()
    assert row is not None
    return tuple(row)


async def test_claude_cancels_with_thinking_through_the_real_tools(models: Models) -> None:
    platform = models.platform
    customer = await platform.customer()
    models.standin.serve("thinking_tool_use", "thinking_text", customer_id=customer["id"],
                         subscription_id=customer["subscription"])
    reply = await platform.send("f-claude", "I want to cancel my subscription", email=customer["email"])
    assert reply.category == "cancel_subscription" and reply.decision is Decision.AUTO_SEND
    assert "Before you decide" in reply.reply and "Policy:" not in reply.reply  # no thinking text reaches anyone

    first, second = (seen.body for seen in models.standin.requests)
    assert first["model"] == "claude-sonnet-4-6" and first["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert {tool["name"] for tool in first["tools"]} == {
        "search_knowledge", "get_examples", "get_category_instructions", "list_subscriptions", "get_subscription",
        "get_retention_offers", "pause_subscription", "skip_month", "cancel_subscription"}
    assert f"customer_id {customer['id']}" in first["system"]
    result = second["messages"][2]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_01Rt5yU7iO9pA1sD3fG5hJ7k"
    assert '"offers"' in str(result["content"])  # the subscriptions server answered over MCP

    # What it cost: the price table applied to the recorded usage (cache write, cache read, thinking).
    expected = ((3120 + 412) * 3.00 + 6010 * 0.30 + 2890 * 3.75 + (412 + 298) * 15.00) / 1e6
    assert reply.cost == pytest.approx(expected, abs=1e-6)
    model, cost, usage = await turn_row(platform, "f-claude")
    assert model == "claude-sonnet-4-6" and float(cost) == pytest.approx(expected, abs=1e-6)
    assert usage == [{"model": "claude-sonnet-4-6", "provider": "anthropic", "requests": 2,
                      "input_tokens": 3120 + 2890 + 412 + 6010, "cached_input_tokens": 6010,
                      "cache_write_tokens": 2890, "output_tokens": 710, "thinking_tokens": 543,
                      "cost_usd": round(expected, 6)}]
    offers = await (await platform.db.execute(
        "SELECT key FROM customer_memories WHERE customer_id = %s AND kind = 'retention' ORDER BY key",
        (customer["id"],))).fetchall()
    assert [o[0] for o in offers] == ["offer:lower_frequency", "offer:pause", "offer:skip_next_box"]


async def test_an_anthropic_outage_falls_back_to_the_fallback_model(models: Models) -> None:
    platform = models.platform
    customer = await platform.customer()
    models.standin.serve("overloaded_529", "overloaded_529", "overloaded_529")
    fallback = script(models, "gpt-5.1")
    fallback.set_default_usage(Usage(requests=1, input_tokens=2400, output_tokens=180, total_tokens=2580))
    fallback.extend([[assistant_message("I'm sorry to hear that. Would a pause of 1, 2 or 3 months suit you "
                                        "better, or shall I go ahead with the cancellation?")]])
    reply = await platform.send("f-down", "I want to cancel my subscription", email=customer["email"])
    assert reply.reply.startswith("I'm sorry to hear that") and reply.decision is Decision.AUTO_SEND
    assert "model_unavailable:claude-sonnet-4-6:overloaded" in reply.reasons
    assert "fallback:gpt-5.1" in reply.reasons
    assert len(models.standin.requests) == 3  # the first try and two retries
    assert not any(word in reply.reply for word in TECHNICAL)
    assert reply.cost == pytest.approx((2400 * 1.25 + 180 * 10.00) / 1e6)  # only the model that answered
    assert (await turn_row(platform, "f-down"))[0] == "gpt-5.1"

    # The next turn does not wait for Anthropic again while it cools down.
    fallback.extend([[assistant_message("Would you like to pause instead of cancelling?")]])
    again = await platform.send("f-down-2", "please cancel my subscription", email=customer["email"])
    assert "model_unavailable:claude-sonnet-4-6:cooling_down" in again.reasons
    assert len(models.standin.requests) == 3


async def test_when_every_model_is_out_the_offline_playbook_answers(models: Models) -> None:
    platform = models.platform
    customer = await platform.customer()

    def outage(name: str) -> ModelUnavailable:
        return ModelUnavailable("openai" if name.startswith("gpt") else "anthropic", name, "server_error", status=503)

    script(models, "gpt-5.1").extend([outage("gpt-5.1")])
    script(models, "claude-haiku-4-5").extend([outage("claude-haiku-4-5")])
    reply = await platform.send("f-offline", "Please skip my next box", email=customer["email"])
    assert reply.reply.startswith("Skip the") and reply.buttons  # the offline playbook proposed it
    assert reply.reasons[-3:] == ["model_unavailable:gpt-5.1:server_error",
                                  "model_unavailable:claude-haiku-4-5:server_error", "fallback:offline_brain"]
    assert reply.cost == 0
    done = await platform.send("f-offline", button=reply.buttons[0].value)
    assert [a.tool for a in done.actions_taken] == ["skip_month"]


async def test_a_bad_answer_is_not_an_outage_and_goes_to_a_person(models: Models) -> None:
    from agents.exceptions import ModelBehaviorError

    platform = models.platform
    script(models, "gpt-5.1").extend([ModelBehaviorError("the provider returned garbage")])
    reply = await platform.send("f-garbage", "Are your products kosher?")
    assert reply.decision is Decision.ESCALATE and "Sorry, something went wrong" in reply.reply
    assert not any(r.startswith("fallback:") for r in reply.reasons)
    assert script(models, "claude-haiku-4-5").calls == ()
