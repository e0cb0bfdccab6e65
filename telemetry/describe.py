"""What the orchestrator's spans say about a turn: the describers its `telemetry.traced` hooks use, kept here so
the hooks in the orchestrator stay one line each. They read objects by attribute (not by importing the
orchestrator's types), so tracing never becomes an import cycle or a reason a turn fails."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telemetry import content, genai, redacted_json


def _value(item: Any) -> Any:
    return getattr(item, "value", item)


def turn_request(_pipeline: Any, request: Any) -> Mapping[str, Any]:
    text = request.text or (f"[button] {request.button_value}" if request.button_value else None)
    if text is None and request.attachments:
        text = f"[{len(request.attachments)} attachment(s)]"
    return {genai.TRACE_NAME: "turn", genai.OBSERVATION_TYPE: "chain", genai.OPERATION: "invoke_agent",
            genai.AGENT_NAME: "levhaolam", genai.SESSION_ID: request.conversation_id,
            genai.CONVERSATION_ID: request.conversation_id, genai.CHANNEL: _value(request.channel),
            genai.MESSAGE_ID: request.message_id, genai.OBSERVATION_INPUT: content(text)}


def turn_response(response: Any) -> Mapping[str, Any]:
    return {genai.CATEGORY: _value(response.category), genai.SECONDARY: _value(response.secondary),
            genai.DECISION: _value(response.decision), genai.REASONS: list(response.reasons),
            genai.COST_USD: float(response.cost or 0.0), genai.REPLAYED: bool(response.replayed),
            genai.ACTIONS: [action.tool for action in response.actions_taken],
            genai.OBSERVATION_OUTPUT: content(response.reply)}


def routing(routed: Any) -> Mapping[str, Any]:
    return {genai.CATEGORY: _value(routed.primary), genai.SECONDARY: _value(routed.secondary),
            genai.URGENCY: _value(routed.urgency), genai.CONFIDENCE: float(routed.confidence),
            genai.LANGUAGE: routed.language, genai.OBSERVATION_TYPE: "chain"}


def identified(result: Any) -> Mapping[str, Any]:
    customer_id = result[0] if isinstance(result, tuple) else None
    return {genai.IDENTIFIED: customer_id is not None, genai.USER_ID: str(customer_id) if customer_id else None}


def brain_name(_pipeline: Any, _conn: Any, _conversation: Any, category: Any, *_: Any, **__: Any) -> str:
    return f"brain {_value(category)}"


def brain_call(pipeline: Any, _conn: Any, _conversation: Any, category: Any, _text: Any, language: Any,
               customer_id: Any, *_: Any, **__: Any) -> Mapping[str, Any]:
    config = pipeline.categories[category]
    return {genai.OPERATION: "invoke_agent", genai.OBSERVATION_TYPE: "agent", genai.AGENT_NAME: _value(category),
            genai.REQUEST_MODEL: config.model, genai.REASONING_EFFORT: _value(config.reasoning_effort),
            genai.LANGUAGE: language, genai.USER_ID: str(customer_id) if customer_id is not None else None}


def brain_reply(reply: Any) -> Mapping[str, Any]:
    proposal = getattr(reply, "proposal", None)
    return {genai.RESPONSE_MODEL: reply.model or "offline", genai.GAVE_UP: reply.gave_up,
            genai.PROPOSAL: proposal.tool if proposal is not None else None, genai.AWAITING: reply.awaiting,
            genai.COST_USD: float(reply.cost_usd or 0.0), genai.OBSERVATION_OUTPUT: content(reply.text),
            genai.OBSERVATION_LEVEL: "WARNING" if reply.gave_up else None}


def gate(response: Any) -> Mapping[str, Any]:
    return {genai.DECISION: _value(response.decision), genai.REASONS: list(response.reasons),
            genai.OBSERVATION_TYPE: "guardrail"}


def tool_name(_tools: Any, tool: str, **_: Any) -> str:
    return f"execute_tool {tool}"


def tool_call(tools: Any, tool: str, **arguments: Any) -> Mapping[str, Any]:
    server = tools.allowed.get(tool)
    return {genai.OPERATION: "execute_tool", genai.OBSERVATION_TYPE: "tool", genai.TOOL_NAME: tool,
            genai.TOOL_TYPE: "extension", genai.SERVER: _value(server) if server is not None else None,
            genai.TOOL_ARGUMENTS: redacted_json(arguments)}


def tool_outcome(outcome: Any) -> Mapping[str, Any]:
    if outcome.error is not None:
        code = _value(outcome.error.code)
        return {genai.OUTCOME: code, genai.ERROR_TYPE: code, genai.OBSERVATION_LEVEL: "WARNING"}
    status = outcome.data.get("status") if isinstance(outcome.data, dict) else None
    result = redacted_json(outcome.data) if content("") is not None else None
    return {genai.OUTCOME: status if status in ("confirmation_required", "executed") else "ok",
            genai.TOOL_RESULT: result}
