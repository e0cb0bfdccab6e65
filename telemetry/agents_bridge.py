"""The openai-agents SDK's own traces (agent runs, model calls, tool calls, guardrails) as OpenTelemetry spans in
the turn's trace.

The SDK traces through its own processors, and by default sends them to OpenAI. While the platform exports
spans, this processor replaces that default: each SDK span becomes an OpenTelemetry span with GenAI attributes,
parented to its SDK parent, and the SDK's root to whatever OpenTelemetry span was current when the run started
(the brain's span), so one turn stays one trace. Message content is not copied (prompts hold the customer's data
and the category rules); tool arguments and results are, redacted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from agents.tracing import (
    AgentSpanData,
    FunctionSpanData,
    GenerationSpanData,
    GuardrailSpanData,
    MCPListToolsSpanData,
    ResponseSpanData,
    Span,
    Trace,
    TracingProcessor,
    set_trace_processors,
)
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Status, StatusCode

from telemetry import genai
from telemetry.redaction import redacted_json

SCOPE = "levhaolam"
CostOf = Callable[[str, int, int], float | None]
_cost_of: dict[str, CostOf | None] = {"fn": None}


def set_cost_function(cost_of: CostOf | None) -> None:
    """How a model call's cost is priced (model, input tokens, output tokens → USD); unset: the reviewed price
    table of the orchestrator (`orchestrator/prices.toml`), at its plain input and output rates."""
    _cost_of["fn"] = cost_of


def price_table_cost(model: str, input_tokens: int, output_tokens: int) -> float | None:
    # Imported here: telemetry must not need the orchestrator to load (the MCP servers use it too).
    from orchestrator.costs import PER_TOKENS, load_prices

    price = load_prices().price_of(model)
    if price is None:
        return None
    return round((input_tokens * price.input + output_tokens * price.output) / PER_TOKENS, 8)


_cost_of["fn"] = price_table_cost


def _usage(data: Any) -> tuple[str | None, int | None, int | None, str | None]:
    """(model, input tokens, output tokens, response id) of a generation or response span."""
    if isinstance(data, GenerationSpanData):
        usage = data.usage or {}
        return data.model, usage.get("input_tokens"), usage.get("output_tokens"), None
    response = data.response
    if response is None:
        return None, None, None, None
    used = getattr(response, "usage", None)
    return (getattr(response, "model", None), getattr(used, "input_tokens", None),
            getattr(used, "output_tokens", None), getattr(response, "id", None))


def _describe(data: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(data, AgentSpanData):
        return f"invoke_agent {data.name}", {genai.OPERATION: "invoke_agent", genai.AGENT_NAME: data.name,
                                             genai.OBSERVATION_TYPE: "agent"}
    if isinstance(data, GenerationSpanData | ResponseSpanData):
        return "chat", {genai.OPERATION: "chat", genai.OBSERVATION_TYPE: "generation"}
    if isinstance(data, FunctionSpanData):
        return f"execute_tool {data.name}", {genai.OPERATION: "execute_tool", genai.TOOL_NAME: data.name,
                                             genai.OBSERVATION_TYPE: "tool"}
    if isinstance(data, GuardrailSpanData):
        return f"guardrail {data.name}", {genai.OBSERVATION_TYPE: "guardrail"}
    if isinstance(data, MCPListToolsSpanData):
        return f"mcp list_tools {data.server}", {genai.SERVER: data.server}
    return f"agents.{getattr(data, 'type', 'span')}", {}


def _finished(data: Any) -> tuple[str | None, dict[str, Any]]:
    """A new span name (model calls are named after the model) and the attributes known only at the end."""
    if isinstance(data, GenerationSpanData | ResponseSpanData):
        model, used_in, used_out, response_id = _usage(data)
        attributes: dict[str, Any] = {genai.REQUEST_MODEL: model, genai.RESPONSE_MODEL: model,
                                      genai.OBSERVATION_MODEL: model, genai.INPUT_TOKENS: used_in,
                                      genai.OUTPUT_TOKENS: used_out, genai.RESPONSE_ID: response_id}
        if used_in is not None or used_out is not None:
            attributes[genai.USAGE_DETAILS] = json.dumps({"input": used_in or 0, "output": used_out or 0})
        cost_of = _cost_of["fn"]
        if cost_of is not None and model:
            try:
                cost = cost_of(model, used_in or 0, used_out or 0)
            except (ImportError, OSError, ValueError):
                cost = None  # no price table: tokens are still recorded
            if cost is not None:
                attributes[genai.COST_USD] = cost
                attributes[genai.COST_DETAILS] = json.dumps({"total": cost})
        return (f"chat {model}" if model else None), attributes
    if isinstance(data, FunctionSpanData):
        server = (data.mcp_data or {}).get("server")
        return None, {genai.TOOL_ARGUMENTS: redacted_json(data.input) if data.input else None,
                      genai.TOOL_RESULT: redacted_json(str(data.output)) if data.output is not None else None,
                      genai.SERVER: server}
    if isinstance(data, GuardrailSpanData):
        return None, {"levhaolam.guardrail.triggered": data.triggered,
                      genai.OBSERVATION_LEVEL: "WARNING" if data.triggered else None}
    return None, {}


class OtelAgentsProcessor(TracingProcessor):
    """openai-agents spans → OpenTelemetry spans (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roots: dict[str, otel_context.Context] = {}
        self._open: dict[str, otel_trace.Span] = {}
        self._attached: dict[str, object] = {}

    def on_trace_start(self, trace: Trace) -> None:
        # Called in the task that started the run: the current OpenTelemetry span is the brain's.
        with self._lock:
            self._roots[trace.trace_id] = otel_context.get_current()

    def on_trace_end(self, trace: Trace) -> None:
        with self._lock:
            self._roots.pop(trace.trace_id, None)

    def on_span_start(self, span: Span[Any]) -> None:
        name, attributes = _describe(span.span_data)
        with self._lock:
            parent = self._open.get(span.parent_id) if span.parent_id else None
            context = otel_trace.set_span_in_context(parent) if parent is not None else self._roots.get(
                span.trace_id, otel_context.get_current())
        opened = otel_trace.get_tracer(SCOPE).start_span(
            name, context=context, attributes={k: v for k, v in attributes.items() if v is not None})
        with self._lock:
            self._open[span.span_id] = opened
        if isinstance(span.span_data, FunctionSpanData):
            # A tool span starts and ends in the task that calls the tool (`with function_span(...)`): made current
            # there, the MCP client's request (and so the server's span) nests under this tool call.
            self._attached[span.span_id] = otel_context.attach(otel_trace.set_span_in_context(opened))

    def on_span_end(self, span: Span[Any]) -> None:
        with self._lock:
            opened = self._open.pop(span.span_id, None)
        if opened is None:
            return
        token = self._attached.pop(span.span_id, None)
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]
        name, attributes = _finished(span.span_data)
        if name:
            opened.update_name(name)
        opened.set_attributes({k: v for k, v in attributes.items() if v is not None})
        if span.error:
            message = str(span.error.get("message", "error"))
            opened.set_status(Status(StatusCode.ERROR, message))
            opened.set_attribute(genai.ERROR_TYPE, message[:200])
        opened.end()

    def shutdown(self) -> None:
        with self._lock:
            leftover, self._open = list(self._open.values()), {}
        for opened in leftover:
            opened.end()

    def force_flush(self) -> None:
        return None


_processor = OtelAgentsProcessor()


def route_agents_traces(exporting: bool) -> None:
    """While exporting, the SDK's traces go only to our processor (never to OpenAI's trace endpoint: they would
    carry customers' messages to a third party); otherwise it keeps no processors at all."""
    set_trace_processors([_processor] if exporting else [])


def processor() -> OtelAgentsProcessor:
    return _processor
