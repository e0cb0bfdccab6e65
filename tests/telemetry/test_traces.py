"""One customer turn is one trace: the orchestrator's spans, the agent SDK's spans and the MCP servers' spans, sent
over OTLP/HTTP to a local receiver and checked for structure, GenAI attributes and redaction."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from agents.testing import ScriptedModel, function_call

import telemetry
from orchestrator.router import OfflineRouting
from servers.knowledge.embeddings import LocalMiniLM
from tests.helpers import settings_for
from tests.orchestrator.conftest import platform_on
from tests.telemetry.receiver import ReceivedSpan, Receiver, otlp_receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with otlp_receiver() as running:
        settings = settings_for("postgresql://unused/x", OTEL_EXPORTER_OTLP_ENDPOINT=running.url)
        telemetry.shutdown()
        assert telemetry.setup(settings, "levhaolam-test")
        try:
            yield running
        finally:
            telemetry.shutdown()


async def flushed(receiver: Receiver, trace_id: str) -> list[ReceivedSpan]:
    # The exporter's thread posts to a server on this event loop: flushing must not block the loop.
    assert await asyncio.to_thread(telemetry.flush)
    return receiver.trace(trace_id)


def one(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


def ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[str]:
    names = []
    while span.parent_id is not None:
        span = by_id[span.parent_id]
        names.append(span.name)
    return names


def every_value(spans: list[ReceivedSpan]) -> str:
    return json.dumps([[span.name, span.attributes] for span in spans], default=str)


async def test_a_model_turn_is_one_trace_with_server_spans_and_redacted_arguments(
        receiver: Receiver, knowledge_url: str, embedder: LocalMiniLM) -> None:
    model = ScriptedModel(emit_traces=True)
    async with platform_on(knowledge_url, embedder, model_for=lambda _name: model, router=OfflineRouting()) as platform:
        customer = await platform.customer()
        model.extend([
            [function_call("list_subscriptions", {"customer_id": customer["id"]}, call_id="c1")],
            [function_call("skip_month", {"customer_id": customer["id"], "subscription_id": customer["subscription"],
                                          "box_month": "2027-01-01"}, call_id="c2")],
        ])
        message = f"Please skip my next box, my email is {customer['email']} and my phone +1 (555) 123-4567"
        response = await platform.send("tr-1", message, email=customer["email"])
    assert response.category == "skip_month" and response.buttons

    spans = await flushed(receiver, response.trace_id)
    by_id = {span.span_id: span for span in spans}
    names = [span.name for span in spans]

    # Structure: one root, the pipeline's steps under it, the agent's spans under the brain, servers under clients.
    turn = one(spans, "turn")
    assert turn.parent_id is None and [s for s in spans if s.parent_id is None] == [turn]
    for step in ("router", "identify", "brain skip_month", "gate"):
        assert one(spans, step).parent_id == turn.span_id, step
    identify_call = one(spans, "execute_tool identify_customer")
    # The contact's e-mail is looked up while the router runs: beside the steps, under the turn, its request out
    # before routing starts; the identify step then takes its answer.
    assert ancestors(identify_call, by_id)[:2] == ["lookup customer", "turn"]
    sent = next(s for s in spans if s.scope == "mcp-python-sdk" and "identify_customer" in s.name)
    assert sent.start_ns < one(spans, "router").start_ns
    brain = one(spans, "brain skip_month")
    agent_run = [s for s in spans if s.name == "invoke_agent skip_month"]
    assert len(agent_run) == 1 and brain.name in ancestors(agent_run[0], by_id), names
    assert agent_run[0].attributes["langfuse.observation.type"] == "agent"
    model_calls = [s for s in spans if s.attributes.get("gen_ai.operation.name") == "chat"]
    assert len(model_calls) == 2 and all(brain.name in ancestors(s, by_id) for s in model_calls)
    agent_tools = {s.attributes["gen_ai.tool.name"] for s in spans if s.name.startswith("execute_tool ")
                   and brain.name in ancestors(s, by_id)}
    assert {"get_category_instructions", "get_examples", "list_subscriptions", "skip_month"} <= agent_tools

    server_spans = [s for s in spans if s.scope == "fastmcp" and s.kind == "SPAN_KIND_SERVER"]
    client_spans = {s.span_id: s for s in spans if s.scope == "mcp-python-sdk"}
    served = {s.attributes.get("gen_ai.tool.name") for s in server_spans}
    assert {"identify_customer", "list_subscriptions", "skip_month", "get_category_instructions"} <= served
    # The agent's tool calls reach their servers under the agent's own tool span.
    agent_skip = next(s for s in spans if s.name == "execute_tool skip_month" and agent_run[0].name in ancestors(
        s, by_id))
    skip_server = next(s for s in server_spans if s.attributes.get("gen_ai.tool.name") == "skip_month")
    assert ancestors(skip_server, by_id)[1] == agent_skip.name
    for server_span in server_spans:
        # Each server span continues the caller's trace: its parent is the MCP client span that sent the request.
        assert server_span.parent_id in client_spans, server_span
        if server_span.name.startswith("tools/call "):
            assert server_span.attributes["levhaolam.mcp.server"] in {"customers", "subscriptions", "knowledge"}
    skip_server = next(s for s in server_spans if s.attributes.get("gen_ai.tool.name") == "skip_month")
    assert skip_server.attributes["levhaolam.caller.scope"] == "skip_month"
    assert skip_server.attributes["levhaolam.tool.outcome"] == "ok"

    # Attributes: GenAI conventions and the pipeline's decisions.
    assert turn.attributes["gen_ai.conversation.id"] == "tr-1" and turn.attributes["session.id"] == "tr-1"
    assert turn.attributes["levhaolam.category"] == "skip_month"
    assert turn.attributes["levhaolam.gate.decision"] == response.decision.value
    assert one(spans, "gate").attributes["levhaolam.gate.decision"] == response.decision.value
    router = one(spans, "router")
    assert router.attributes["levhaolam.category"] == "skip_month" and 0 < router.attributes[
        "levhaolam.router.confidence"] <= 1
    assert brain.attributes["gen_ai.request.model"] == "gpt-5.1"
    assert brain.attributes["levhaolam.brain.proposal"] == "skip_month"
    assert identify_call.attributes["levhaolam.mcp.server"] == "customers"
    assert identify_call.attributes["levhaolam.tool.outcome"] == "ok"
    proposal_call = agent_skip
    assert json.loads(proposal_call.attributes["gen_ai.tool.call.arguments"])["box_month"] == "2027-01-01"
    assert all(s.service == "levhaolam-test" for s in spans)
    assert turn.start_ns <= min(s.start_ns for s in spans) and turn.end_ns >= max(s.end_ns for s in spans)

    # Redaction: the e-mail and phone appear nowhere; arguments keep ids and show where data was removed.
    everything = every_value(spans)
    assert customer["email"] not in everything and "555) 123-4567" not in everything
    assert json.loads(identify_call.attributes["gen_ai.tool.call.arguments"]) == {"email": "[REDACTED]"}
    assert "[EMAIL]" in turn.attributes["langfuse.observation.input"]
    assert "[PHONE]" in turn.attributes["langfuse.observation.input"]
    assert str(customer["subscription"]) in proposal_call.attributes["gen_ai.tool.call.arguments"]
    # The server's confirmation token (in the skip_month result the agent saw) is replaced wherever it appears.
    tokens = [found.group(0) for found in re.finditer(r"confirmation_token[^,}]{0,40}", everything)]
    assert tokens and all("[SECRET]" in token for token in tokens)


async def test_an_offline_turn_with_content_off_carries_no_text_and_a_refusal_is_labelled(
        receiver: Receiver, knowledge_url: str, embedder: LocalMiniLM) -> None:
    telemetry.record_content(False)
    try:
        async with platform_on(knowledge_url, embedder) as platform:
            response = await platform.send("tr-2", "Is everything in the box kosher? Write to me at a@b.example")
    finally:
        telemetry.record_content(True)
    spans = await flushed(receiver, response.trace_id)
    turn = one(spans, "turn")
    assert "langfuse.observation.input" not in turn.attributes
    assert "langfuse.observation.output" not in turn.attributes
    brain = one(spans, "brain general_question")
    assert brain.attributes["gen_ai.response.model"] == "offline"
    search = one(spans, "execute_tool search_knowledge")
    assert "gen_ai.tool.call.result" not in search.attributes
    assert "a@b.example" not in every_value(spans)


def test_redaction_of_arguments_and_text() -> None:
    arguments: dict[str, Any] = {
        "customer_id": 7, "email": "dana@example.com", "months": 2, "box_month": "2027-01-01",
        "address": {"line1": "1 Herzl St", "city": "Haifa"}, "confirmation_token": "abc.def",
        "query": "my number is +972 52 123 4567, card 4111111111111111", "photo_url": "https://x/y.jpg",
        "items": [{"note": "call dana@example.com"}]}
    assert telemetry.redact_arguments(arguments) == {
        "customer_id": 7, "email": "[REDACTED]", "months": 2, "box_month": "2027-01-01", "address": "[REDACTED]",
        "confirmation_token": "[SECRET]", "query": "my number is [PHONE], card [NUMBER]",
        "photo_url": "[REDACTED]", "items": [{"note": "call [EMAIL]"}]}
    assert telemetry.redact_text("order #12345 shipped 2026-11-02, tracking RR123456789IL") == \
        "order #12345 shipped 2026-11-02, tracking RR123456789IL"


def test_nothing_configured_means_no_export() -> None:
    telemetry.shutdown()
    assert not telemetry.setup(settings_for("postgresql://unused/x"), "levhaolam-test")
    assert not telemetry.exporting()
    with telemetry.span("anything") as opened:
        assert telemetry.current_trace_id() is None or opened.get_span_context().is_valid
