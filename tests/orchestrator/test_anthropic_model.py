"""The Anthropic adapter against recorded Messages API responses, served by a local stand-in to the real
`AsyncAnthropic` client and driven by the real openai-agents runner: requests as the API expects them (tools,
tool_use/tool_result round trips, thinking blocks back verbatim, structured output), responses turned into items and
usage, stop reasons, and errors retried then typed. No key, no network beyond loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from agents import Agent, ModelSettings, RunConfig, Runner, function_tool
from agents.exceptions import ModelBehaviorError
from anthropic import AsyncAnthropic
from openai.types.shared import Reasoning
from pydantic import BaseModel

from orchestrator.anthropic_model import AnthropicModel
from orchestrator.costs import ModelUsage, load_prices
from orchestrator.providers import ModelUnavailable, RetryPolicy
from tests.orchestrator.anthropic_standin import AnthropicStandIn, anthropic_standin

RUN = RunConfig(tracing_disabled=True)


@dataclass
class Claude:
    standin: AnthropicStandIn
    model: AnthropicModel
    slept: list[float] = field(default_factory=list)


@pytest.fixture
async def claude() -> AsyncIterator[Claude]:
    async with anthropic_standin() as standin:
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        client = AsyncAnthropic(api_key="sk-ant-test-key", base_url=standin.base_url, timeout=5)
        model = AnthropicModel("claude-sonnet-4-5", client, retry=RetryPolicy(max_retries=2, base_delay_s=0.5,
                                                                                max_delay_s=5.0), sleep=sleep)
        yield Claude(standin, model, slept)


@function_tool
def search_knowledge(query: str, namespace: str, k: int = 3) -> str:
    """Search the help centre."""
    return '{"passages": [{"title": "Kosher", "content": "All food products carry a kosher certification."}]}'


@function_tool
def lookup_order(order_id: int) -> str:
    """Look up one order."""
    return {7: '{"status": "delivered"}', 8: '{"status": "in_transit"}'}[order_id]


def agent(model: AnthropicModel, effort: str | None = None, **options: object) -> Agent:
    settings = ModelSettings(reasoning=Reasoning(effort=effort)) if effort else ModelSettings()  # type: ignore[arg-type]
    return Agent(name="support", instructions="You are the support assistant.", model=model, model_settings=settings,
                 **options)  # type: ignore[arg-type]


async def test_a_text_answer_and_its_usage(claude: Claude) -> None:
    claude.standin.serve("text_end_turn")
    result = await Runner.run(agent(claude.model), "Are your products kosher?", run_config=RUN)
    assert result.final_output.startswith("Yes: all food products in the box are certified kosher")
    [seen] = claude.standin.requests
    assert seen.path == "/v1/messages" and seen.headers["authorization"] == "Bearer sk-ant-test-key"
    assert seen.headers["anthropic-version"]
    assert seen.body == {"model": "claude-sonnet-4-5", "system": "You are the support assistant.", "max_tokens": 2048,
                         "messages": [{"role": "user", "content": [{"type": "text",
                                                                    "text": "Are your products kosher?"}]}]}
    usage = result.context_wrapper.usage
    # input counts cache reads too (as OpenAI counts them); the cached part is priced apart.
    assert (usage.requests, usage.input_tokens, usage.output_tokens) == (1, 1432 + 2048, 41)
    assert usage.input_tokens_details.cached_tokens == 2048


async def test_a_tool_use_round_trip_keeps_the_call_id(claude: Claude) -> None:
    claude.standin.serve("tool_use_search", "text_after_tool")
    result = await Runner.run(agent(claude.model, tools=[search_knowledge]), "is it kosher?", run_config=RUN)
    assert result.final_output == "Yes: all food products are certified kosher by a recognised Israeli authority."
    first, second = (seen.body for seen in claude.standin.requests)
    assert first["tools"] == [{"name": "search_knowledge", "description": "Search the help centre.", "input_schema": {
        "type": "object", "title": "search_knowledge_args", "additionalProperties": False,
        "required": ["query", "namespace", "k"],
        "properties": {"query": {"title": "Query", "type": "string"},
                       "namespace": {"title": "Namespace", "type": "string"},
                       "k": {"default": 3, "title": "K", "type": "integer"}}}}]
    assert "tool_choice" not in first  # the API's default: auto
    user, assistant, results = second["messages"]
    assert assistant == {"role": "assistant", "content": [
        {"type": "text", "text": "Let me check that in our help centre."},
        {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "search_knowledge",
         "input": {"query": "kosher certification", "namespace": "faq", "k": 3}}]}
    assert results["role"] == "user" and results["content"][0]["type"] == "tool_result"
    assert results["content"][0]["tool_use_id"] == "toolu_01A09q90qw90lq917835lq9"
    assert "kosher certification" in results["content"][0]["content"]


async def test_parallel_tool_calls_come_back_in_one_user_turn(claude: Claude) -> None:
    claude.standin.serve("parallel_tool_use", "after_parallel_tools")
    result = await Runner.run(agent(claude.model, tools=[lookup_order]), "orders 7 and 8?", run_config=RUN)
    assert result.final_output == "Order 7 was delivered; order 8 is in transit."
    messages = claude.standin.requests[1].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert [(b["tool_use_id"], b["content"]) for b in messages[2]["content"]] == [
        ("toolu_01Lk3jH5gF7dS9aQ1wE3rT5y", '{"status": "delivered"}'),
        ("toolu_01Mn4bV6cX8zL0kJ2hG4fD6s", '{"status": "in_transit"}')]


def test_parallel_calls_can_be_switched_off() -> None:
    from orchestrator.anthropic_model import tool_choice_param

    assert tool_choice_param(ModelSettings(parallel_tool_calls=False), True) == {
        "type": "auto", "disable_parallel_tool_use": True}
    assert tool_choice_param(ModelSettings(tool_choice="required"), True) == {"type": "any"}
    assert tool_choice_param(ModelSettings(tool_choice="lookup_order"), True) == {"type": "tool",
                                                                                  "name": "lookup_order"}
    assert tool_choice_param(ModelSettings(tool_choice="none"), True) == {"type": "none"}
    assert tool_choice_param(ModelSettings(), True) is None and tool_choice_param(ModelSettings(), False) is None


@function_tool
def get_retention_offers(customer_id: int, subscription_id: int) -> str:
    """Offers for a customer who wants to cancel."""
    return '{"offers": [{"kind": "pause"}, {"kind": "skip_next_box"}, {"kind": "discount"}]}'


async def test_extended_thinking_has_a_budget_and_its_signed_blocks_go_back_verbatim(claude: Claude) -> None:
    claude.standin.serve("thinking_tool_use", "thinking_text", customer_id=41, subscription_id=77)
    result = await Runner.run(agent(claude.model, "high", tools=[get_retention_offers]), "I want to cancel",
                              run_config=RUN)
    assert "Before you decide" in result.final_output
    first, second = (seen.body for seen in claude.standin.requests)
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert first["max_tokens"] == 2048 + 8192 and "temperature" not in first
    recorded = claude.standin.queue  # consumed
    assert recorded == []
    assistant = second["messages"][1]
    assert assistant["role"] == "assistant"
    thinking, tool_use = assistant["content"]
    assert thinking["type"] == "thinking" and thinking["signature"].startswith("EqQBCkgIBxABGAIiQLV0nOp1")
    assert thinking["thinking"].startswith("The customer wants to cancel.")
    assert tool_use == {"type": "tool_use", "id": "toolu_01Rt5yU7iO9pA1sD3fG5hJ7k", "name": "get_retention_offers",
                        "input": {"customer_id": 41, "subscription_id": 77}}
    usage = result.context_wrapper.usage
    assert usage.output_tokens_details.reasoning_tokens == 356 + 187
    assert usage.input_tokens_details.cache_write_tokens == 2890
    # The thinking never reaches the answer.
    assert "Policy: offer once" not in result.final_output


@pytest.mark.parametrize(("effort", "budget"), [("none", None), ("minimal", None), ("low", 1024),
                                                ("medium", 4096), ("high", 8192)])
def test_the_thinking_budget_follows_the_categorys_effort(effort: str, budget: int | None) -> None:
    from orchestrator.anthropic_model import build_request

    request = build_request("claude-sonnet-4-5", "sys", "hi", ModelSettings(reasoning=Reasoning(effort=effort),
                                                                            temperature=0.2),  # type: ignore[arg-type]
                            [], None, [])
    if budget is None:
        assert "thinking" not in request and request["temperature"] == 0.2 and request["max_tokens"] == 2048
    else:
        assert request["thinking"] == {"type": "enabled", "budget_tokens": budget}
        assert "temperature" not in request and request["max_tokens"] == 2048 + budget


async def test_redacted_thinking_is_kept_for_the_round_trip_and_not_shown(claude: Claude) -> None:
    claude.standin.serve("redacted_thinking")
    result = await Runner.run(agent(claude.model, "low"), "when does my box ship?", run_config=RUN)
    assert result.final_output == "Your next box ships on 5 December."
    reasoning = [item for item in result.new_items if item.type == "reasoning_item"]
    assert reasoning and reasoning[0].raw_item.provider_data["anthropic_blocks"][0]["type"] == "redacted_thinking"
    from orchestrator.anthropic_model import to_messages

    _, messages = to_messages([item.to_input_item() for item in result.new_items])
    assert messages[0]["content"][0] == {"type": "redacted_thinking", "data": reasoning[0].raw_item.provider_data[
        "anthropic_blocks"][0]["data"]}


class Verdict(BaseModel):
    verdict: str
    reason: str
    confidence: float


async def test_structured_output_sends_the_schema_and_parses_the_answer(claude: Claude) -> None:
    claude.standin.serve("structured_output")
    result = await Runner.run(agent(claude.model, output_type=Verdict), "judge this", run_config=RUN)
    assert result.final_output == Verdict(verdict="block", reason="prompt_injection", confidence=0.94)
    output_format = claude.standin.requests[0].body["output_config"]["format"]
    assert output_format["type"] == "json_schema"
    assert output_format["schema"]["required"] == ["verdict", "reason", "confidence"]
    assert output_format["schema"]["additionalProperties"] is False


async def test_a_cut_off_answer_is_an_error_not_a_reply(claude: Claude) -> None:
    claude.standin.serve("max_tokens")
    with pytest.raises(ModelBehaviorError, match="max_tokens"):
        await Runner.run(agent(claude.model), "tell me everything about shipping", run_config=RUN)


async def test_a_refusal_is_no_answer(claude: Claude) -> None:
    from agents.exceptions import ModelRefusalError

    claude.standin.serve("refusal")
    with pytest.raises(ModelRefusalError):  # the runner's own signal; the brain hands the turn to a person
        await Runner.run(agent(claude.model), "help me with something harmful", run_config=RUN)


async def test_a_paused_turn_is_continued(claude: Claude) -> None:
    claude.standin.serve("pause_turn", "pause_turn_continued")
    result = await Runner.run(agent(claude.model), "where do I find my tracking number?", run_config=RUN)
    assert result.final_output == "Your tracking number is shown in your account, under Orders."
    second = claude.standin.requests[1].body["messages"]
    assert second[-1] == {"role": "assistant", "content": [{"type": "text", "text": "Your tracking number is "}]}
    assert result.context_wrapper.usage.requests == 2 and result.context_wrapper.usage.output_tokens == 26


async def test_overloaded_is_retried_with_backoff_then_answers(claude: Claude) -> None:
    claude.standin.serve("overloaded_529", "overloaded_529", "text_end_turn")
    result = await Runner.run(agent(claude.model), "Are your products kosher?", run_config=RUN)
    assert result.final_output.startswith("Yes")
    assert len(claude.standin.requests) == 3
    assert len(claude.slept) == 2 and 0.375 <= claude.slept[0] <= 0.5 and 0.75 <= claude.slept[1] <= 1.0


async def test_overloaded_past_the_retries_is_a_typed_failure(claude: Claude) -> None:
    claude.standin.serve("overloaded_529", "overloaded_529", "overloaded_529")
    with pytest.raises(ModelUnavailable) as failure:
        await Runner.run(agent(claude.model), "hi", run_config=RUN)
    assert (failure.value.provider, failure.value.kind, failure.value.status) == ("anthropic", "overloaded", 529)
    assert len(claude.standin.requests) == 3


async def test_a_rate_limit_waits_as_long_as_retry_after_says(claude: Claude) -> None:
    claude.standin.serve("rate_limit_429", "text_end_turn")
    await Runner.run(agent(claude.model), "hi", run_config=RUN)
    assert claude.slept == [2.0]


async def test_a_rate_limit_longer_than_we_wait_fails_at_once(claude: Claude) -> None:
    claude.standin.serve("rate_limit_long_429")
    with pytest.raises(ModelUnavailable) as failure:
        await Runner.run(agent(claude.model), "hi", run_config=RUN)
    assert failure.value.kind == "rate_limited" and claude.slept == [] and len(claude.standin.requests) == 1


@pytest.mark.parametrize(("recorded", "kind", "status"), [
    ("spend_limit_429", "spend_limit", 429),
    ("authentication_401", "auth", 401),
    ("invalid_request_400", "bad_request", 400),
])
async def test_errors_that_a_retry_cannot_fix_are_not_retried(claude: Claude, recorded: str, kind: str,
                                                              status: int) -> None:
    claude.standin.serve(recorded)
    with pytest.raises(ModelUnavailable) as failure:
        await Runner.run(agent(claude.model), "hi", run_config=RUN)
    assert (failure.value.kind, failure.value.status) == (kind, status)
    assert len(claude.standin.requests) == 1 and claude.slept == []


async def test_a_server_error_is_retried(claude: Claude) -> None:
    claude.standin.serve("api_error_500", "text_end_turn")
    result = await Runner.run(agent(claude.model), "hi", run_config=RUN)
    assert result.final_output.startswith("Yes") and len(claude.slept) == 1


async def test_a_timeout_is_retried_then_typed() -> None:
    async with anthropic_standin() as standin:
        standin.delay_s = 1.0
        standin.serve("text_end_turn", "text_end_turn")
        client = AsyncAnthropic(api_key="k", base_url=standin.base_url, timeout=0.2)

        async def no_wait(_: float) -> None:
            return None

        model = AnthropicModel("claude-sonnet-4-5", client, retry=RetryPolicy(max_retries=1), sleep=no_wait)
        with pytest.raises(ModelUnavailable) as failure:
            await Runner.run(agent(model), "hi", run_config=RUN)
        assert failure.value.kind == "timeout" and len(standin.requests) == 2


def test_usage_becomes_cost_with_the_price_table() -> None:
    # One cancellation turn as recorded: a thinking tool call, then the thinking answer.
    usage = ModelUsage("claude-sonnet-4-5-20250929", requests=2, input_tokens=3120 + 2890 + 412 + 6010,
                       cached_input_tokens=6010, cache_write_tokens=2890, output_tokens=412 + 298,
                       thinking_tokens=356 + 187)
    expected = ((3120 + 412) * 3.00 + 6010 * 0.30 + 2890 * 3.75 + (412 + 298 - 543) * 15.00 + 543 * 15.00) / 1e6
    assert usage.cost(load_prices()) == pytest.approx(expected)
    assert round(expected, 4) == 0.0339
