"""Claude behind the openai-agents `Model` interface, on the `anthropic` package (Messages API).

The agents runner speaks the OpenAI Responses item format; this adapter translates both ways:
- in: system instructions, user / assistant messages, `function_call` / `function_call_output` items (tool_use and
  tool_result blocks, the same call id both ways), and `reasoning` items carrying Claude's signed thinking blocks
  (the API requires them back verbatim, before the tool_use of the same assistant turn, while thinking is on);
- tools: every `FunctionTool` (MCP tools arrive as FunctionTools) and handoff as an Anthropic tool whose
  `input_schema` is the tool's JSON schema;
- reasoning effort: extended thinking with a token budget per effort level (none/minimal: no thinking);
- structured output: `output_config.format` with the output type's JSON schema;
- out: thinking → a `reasoning` item (text + signature, kept in provider_data for the round trip), text → one
  assistant message, tool_use → `function_call` items; usage normalised to the SDK's `Usage` (input includes cache
  reads and writes, output includes thinking, as OpenAI counts them), so the price table treats both alike;
- stop reasons: end_turn / stop_sequence / tool_use are normal; refusal becomes a refusal item (no answer, so the
  pipeline hands over); max_tokens and a full context window are errors, since a cut-off answer or tool call must
  not reach the customer or a tool; pause_turn is continued;
- errors: overloaded (529), rate limits (429), 5xx, timeouts and connection errors are retried with backoff
  (honouring retry-after), then raised as `ModelUnavailable`, like auth or request errors, which are not retried.
  The SDK's own retries are switched off so one policy (settings) governs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, cast

import anthropic
from agents import Model, ModelSettings, ModelTracing
from agents.agent_output import AgentOutputSchemaBase
from agents.exceptions import ModelBehaviorError, UserError
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseInputItem, TResponseOutputItem, TResponseStreamEvent
from agents.retry import ModelRetryAdvice, ModelRetryAdviceRequest
from agents.tool import FunctionTool, Tool
from agents.usage import Usage
from anthropic.types import Message
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseUsage,
)
from openai.types.responses.response_prompt_param import ResponsePromptParam
from openai.types.responses.response_reasoning_item import Content as ReasoningContent
from openai.types.responses.response_reasoning_item import ResponseReasoningItem
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from orchestrator.providers import ModelUnavailable, RetryPolicy

log = logging.getLogger(__name__)

# Thinking budget per reasoning effort (tokens). The API wants at least 1,024 and less than max_tokens; the
# budget is added on top of the answer's own max_tokens so thinking never eats the visible answer.
THINKING_BUDGET = {"low": 1024, "medium": 4096, "high": 8192, "xhigh": 16384}
DEFAULT_MAX_TOKENS = 2048  # a support reply (or a tool call) fits easily; long output is a sign of trouble
MAX_CONTINUATIONS = 3  # pause_turn continuations of one response

_RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504, 529}
_KIND_BY_STATUS = {401: "auth", 403: "auth", 404: "not_found", 408: "timeout", 409: "conflict", 413: "bad_request",
                   429: "rate_limited", 529: "overloaded"}


class AnthropicModel(Model):
    """`model`: an Anthropic model name (alias or dated snapshot). `client`: an `AsyncAnthropic` (its own retries
    are turned off here). `sleep` is replaceable so tests need not wait for backoff."""

    def __init__(self, model: str, client: anthropic.AsyncAnthropic, *, retry: RetryPolicy | None = None,
                 max_tokens: int = DEFAULT_MAX_TOKENS,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.model = model
        self._client = client.with_options(max_retries=0)
        self.retry = retry or RetryPolicy()
        self.max_tokens = max_tokens
        self._sleep = sleep

    # ------------------------------------------------------------------ the Model interface
    async def get_response(self, system_instructions: str | None, input: str | list[TResponseInputItem],
                           model_settings: ModelSettings, tools: list[Tool],
                           output_schema: AgentOutputSchemaBase | None, handoffs: list[Handoff],
                           tracing: ModelTracing, *, previous_response_id: str | None, conversation_id: str | None,
                           prompt: ResponsePromptParam | None) -> ModelResponse:
        request = build_request(self.model, system_instructions, input, model_settings, tools, output_schema,
                                handoffs, self.max_tokens)
        message = await self._create(request, model_settings.timeout)
        usage = usage_of(message)
        for _ in range(MAX_CONTINUATIONS):
            if message.stop_reason != "pause_turn":
                break
            # A long turn paused by the API: send it back as is and let the model continue it; the answer is both.
            request["messages"] = [*request["messages"], {"role": "assistant", "content": _blocks_of(message)}]
            continued = await self._create(request, model_settings.timeout)
            usage.add(usage_of(continued))
            message = continued.model_copy(update={"content": [*message.content, *continued.content]})
        return ModelResponse(output=output_items(message), usage=usage, response_id=None,
                             request_id=getattr(message, "_request_id", None))

    async def stream_response(self, system_instructions: str | None, input: str | list[TResponseInputItem],
                              model_settings: ModelSettings, tools: list[Tool],
                              output_schema: AgentOutputSchemaBase | None, handoffs: list[Handoff],
                              tracing: ModelTracing, *, previous_response_id: str | None,
                              conversation_id: str | None, prompt: ResponsePromptParam | None
                              ) -> AsyncIterator[TResponseStreamEvent]:
        # Replies are short and nothing streams them to the customer: one completed event with the whole response.
        result = await self.get_response(system_instructions, input, model_settings, tools, output_schema, handoffs,
                                         tracing, previous_response_id=previous_response_id,
                                         conversation_id=conversation_id, prompt=prompt)
        used = result.usage
        response = Response(
            id=f"resp_{int(time.time() * 1000)}", created_at=time.time(), model=self.model, object="response",
            output=list(result.output), tool_choice="auto", tools=[], top_p=None, parallel_tool_calls=True,
            status="completed",
            usage=ResponseUsage(input_tokens=used.input_tokens, output_tokens=used.output_tokens,
                                total_tokens=used.total_tokens, input_tokens_details=used.input_tokens_details,
                                output_tokens_details=used.output_tokens_details))
        yield ResponseCompletedEvent(type="response.completed", response=response, sequence_number=0)

    def get_retry_advice(self, request: ModelRetryAdviceRequest) -> ModelRetryAdvice | None:
        # This adapter already retried what can be retried: the runner must not multiply the attempts.
        return ModelRetryAdvice(suggested=False, reason="retried by the Anthropic adapter")

    async def close(self) -> None:
        await self._client.close()

    # ------------------------------------------------------------------ one request, with retries
    async def _create(self, request: dict[str, Any], request_timeout_s: float | None) -> Message:
        attempt = 0
        while True:
            try:
                extra = {"timeout": request_timeout_s} if request_timeout_s else {}
                create = cast(Callable[..., Awaitable[Message]], self._client.messages.create)
                return await create(**request, **extra)
            except anthropic.APIStatusError as exc:
                kind = _kind_of(exc)
                retryable = exc.status_code in _RETRYABLE_STATUS and exc.error_code != "enforced_spend_limit_reached"
                retry_after = _retry_after(exc.response.headers)
                failure = ModelUnavailable("anthropic", self.model, kind, status=exc.status_code,
                                           detail=exc.api_message or "")
                cause: Exception = exc
            except anthropic.APITimeoutError as exc:
                retryable, retry_after, cause = True, None, exc
                failure = ModelUnavailable("anthropic", self.model, "timeout")
            except anthropic.APIConnectionError as exc:
                retryable, retry_after, cause = True, None, exc
                failure = ModelUnavailable("anthropic", self.model, "connection")
            delay = self.retry.delay(attempt, retry_after) if retryable else None
            if delay is None:
                raise failure from cause
            log.info("anthropic %s: %s, retry %d in %.2fs", self.model, failure.kind, attempt + 1, delay)
            attempt += 1
            await self._sleep(delay)


def _kind_of(exc: anthropic.APIStatusError) -> str:
    if exc.error_code == "enforced_spend_limit_reached":
        return "spend_limit"
    if exc.status_code in _KIND_BY_STATUS:
        return _KIND_BY_STATUS[exc.status_code]
    return "server_error" if exc.status_code >= 500 else "bad_request"


def _retry_after(headers: Any) -> float | None:
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(float(value) / scale, 0.0)
            except ValueError:
                continue
    return None


# ---------------------------------------------------------------------------------------------------------------
# Request: Responses items → Messages API.
# ---------------------------------------------------------------------------------------------------------------

def build_request(model: str, system_instructions: str | None, items: str | list[TResponseInputItem],
                  settings: ModelSettings, tools: list[Tool], output_schema: AgentOutputSchemaBase | None,
                  handoffs: list[Handoff], default_max_tokens: int = DEFAULT_MAX_TOKENS) -> dict[str, Any]:
    system_parts = [system_instructions] if system_instructions else []
    extra_system, messages = to_messages(items)
    system_parts += extra_system
    request: dict[str, Any] = {"model": model, "messages": messages}
    if system_parts:
        request["system"] = "\n\n".join(system_parts)
    anthropic_tools = [tool_param(tool) for tool in tools] + [handoff_param(handoff) for handoff in handoffs]
    if anthropic_tools:
        request["tools"] = anthropic_tools
    choice = tool_choice_param(settings, bool(anthropic_tools))
    if choice is not None:
        request["tool_choice"] = choice
    max_tokens = settings.max_tokens or default_max_tokens
    effort = settings.reasoning.effort if settings.reasoning else None
    budget = THINKING_BUDGET.get(str(effort)) if effort else None
    forced = choice is not None and choice.get("type") in ("any", "tool")
    if budget and not forced:  # the API refuses thinking with a forced tool choice
        request["thinking"] = {"type": "enabled", "budget_tokens": budget}
        max_tokens += budget
    else:  # sampling parameters are refused while thinking is on
        if settings.temperature is not None:
            request["temperature"] = settings.temperature
        if settings.top_p is not None:
            request["top_p"] = settings.top_p
    request["max_tokens"] = max_tokens
    if output_schema is not None and not output_schema.is_plain_text():
        request["output_config"] = {"format": {"type": "json_schema", "schema": output_schema.json_schema()}}
    if settings.metadata and "user_id" in settings.metadata:
        request["metadata"] = {"user_id": settings.metadata["user_id"]}
    if settings.extra_headers:
        request["extra_headers"] = dict(settings.extra_headers)
    if settings.extra_body and isinstance(settings.extra_body, dict):
        request["extra_body"] = dict(settings.extra_body)
    return request


def tool_param(tool: Tool) -> dict[str, Any]:
    if not isinstance(tool, FunctionTool):
        raise UserError(f"the Anthropic adapter supports function and MCP tools, not {type(tool).__name__}")
    schema = dict(tool.params_json_schema or {})
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return {"name": tool.name, "description": tool.description or "", "input_schema": schema}


def handoff_param(handoff: Handoff) -> dict[str, Any]:
    return {"name": handoff.tool_name, "description": handoff.tool_description or "",
            "input_schema": handoff.input_json_schema or {"type": "object", "properties": {}}}


def tool_choice_param(settings: ModelSettings, have_tools: bool) -> dict[str, Any] | None:
    choice = settings.tool_choice
    disable_parallel = settings.parallel_tool_calls is False
    if not have_tools:
        return None
    if choice is None or choice == "auto":
        result: dict[str, Any] = {"type": "auto"}
    elif choice == "required":
        result = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, str):
        result = {"type": "tool", "name": choice}
    else:
        raise UserError(f"tool_choice {choice!r} is not supported by the Anthropic adapter")
    if disable_parallel:
        result["disable_parallel_tool_use"] = True
    elif choice is None:
        return None
    return result


def to_messages(items: str | list[TResponseInputItem]) -> tuple[list[str], list[dict[str, Any]]]:
    """System/developer texts found among the items, and the alternating user/assistant messages."""
    if isinstance(items, str):
        return [], [{"role": "user", "content": [{"type": "text", "text": items}]}]
    system: list[str] = []
    messages: list[dict[str, Any]] = []

    def add(role: str, blocks: Iterable[dict[str, Any]]) -> None:
        blocks = list(blocks)
        if not blocks:
            return
        if messages and messages[-1]["role"] == role:  # consecutive turns of one role are one turn to the API
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})

    for raw in items:
        item = cast(dict[str, Any], raw if isinstance(raw, dict) else raw.model_dump(exclude_unset=True))
        kind = item.get("type")
        role = item.get("role")
        if kind in (None, "message") and role in ("system", "developer"):
            system.append(_plain_text(item.get("content")))
        elif kind in (None, "message") and role == "user":
            add("user", _user_blocks(item.get("content")))
        elif kind in (None, "message") and role == "assistant":
            add("assistant", _assistant_blocks(item.get("content")))
        elif kind == "function_call":
            arguments = item.get("arguments") or "{}"
            try:
                parsed = json.loads(arguments)
            except ValueError:
                parsed = {"_raw": arguments}
            add("assistant", [{"type": "tool_use", "id": item["call_id"], "name": item["name"],
                               "input": parsed if isinstance(parsed, dict) else {"value": parsed}}])
        elif kind == "function_call_output":
            add("user", [{"type": "tool_result", "tool_use_id": item["call_id"],
                          "content": _tool_result_content(item.get("output"))}])
        elif kind == "reasoning":
            add("assistant", _thinking_blocks(item))
        else:
            raise UserError(f"the Anthropic adapter cannot send a {kind or role!r} item")
    return system, messages


def _plain_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(str(part.get("text", "")) for part in content or [] if isinstance(part, dict))


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content or []:
        part_type = part.get("type")
        if part_type in ("input_text", "text", "output_text"):
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif part_type == "input_image" and part.get("image_url"):
            blocks.append({"type": "image", "source": {"type": "url", "url": part["image_url"]}})
        else:
            raise UserError(f"the Anthropic adapter cannot send a {part_type!r} content part")
    return blocks


def _assistant_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for part in content or []:
        if part.get("type") in ("output_text", "text") and part.get("text"):
            blocks.append({"type": "text", "text": part["text"]})
        elif part.get("type") == "refusal" and part.get("refusal"):
            blocks.append({"type": "text", "text": part["refusal"]})
    return blocks


def _tool_result_content(output: Any) -> str | list[dict[str, Any]]:
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        blocks: list[dict[str, Any]] = []
        for part in output:
            if isinstance(part, dict) and part.get("type") in ("input_text", "text"):
                blocks.append({"type": "text", "text": part.get("text", "")})
            elif isinstance(part, dict) and part.get("type") == "input_image" and part.get("image_url"):
                blocks.append({"type": "image", "source": {"type": "url", "url": part["image_url"]}})
            else:
                blocks.append({"type": "text", "text": json.dumps(part, default=str)})
        return blocks
    return json.dumps(output, default=str)


def _thinking_blocks(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Claude's own thinking blocks, verbatim (signature included); thinking without a signature cannot be sent."""
    provider_data = item.get("provider_data") or {}
    blocks = provider_data.get("anthropic_blocks") if isinstance(provider_data, dict) else None
    if isinstance(blocks, list):
        return [dict(block) for block in blocks if isinstance(block, dict)]
    signature = item.get("encrypted_content")
    text = "".join(part.get("text", "") for part in item.get("content") or [] if isinstance(part, dict))
    return [{"type": "thinking", "thinking": text, "signature": signature}] if signature else []


# ---------------------------------------------------------------------------------------------------------------
# Response: Messages API → Responses items and usage.
# ---------------------------------------------------------------------------------------------------------------

def _blocks_of(message: Message) -> list[dict[str, Any]]:
    return [block.model_dump(exclude_none=True) for block in message.content]


def output_items(message: Message) -> list[TResponseOutputItem]:
    if message.stop_reason == "max_tokens":
        raise ModelBehaviorError(f"Claude stopped at max_tokens (response {message.id}): a cut-off answer or tool "
                                 "call is not used")
    if message.stop_reason == "model_context_window_exceeded":
        raise ModelBehaviorError(f"Claude's context window is full (response {message.id})")
    thinking: list[dict[str, Any]] = []
    texts: list[str] = []
    calls: list[TResponseOutputItem] = []
    for block in message.content:
        if block.type == "thinking":
            thinking.append({"type": "thinking", "thinking": block.thinking, "signature": block.signature})
        elif block.type == "redacted_thinking":
            thinking.append({"type": "redacted_thinking", "data": block.data})
        elif block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            calls.append(ResponseFunctionToolCall(id=f"fc_{block.id}", call_id=block.id, name=block.name,
                                                  arguments=json.dumps(block.input, ensure_ascii=False),
                                                  type="function_call", status="completed"))
        else:
            log.warning("ignoring an Anthropic %s block", block.type)
    items: list[TResponseOutputItem] = []
    if thinking:
        items.append(ResponseReasoningItem(
            id=f"rs_{message.id}", type="reasoning", summary=[],
            content=[ReasoningContent(type="reasoning_text", text=block["thinking"])
                     for block in thinking if block["type"] == "thinking"],
            encrypted_content="\n".join(block["signature"] for block in thinking if block.get("signature")) or None,
            provider_data={"anthropic_blocks": thinking}))  # an extra field: the SDK keeps it for the round trip
    if message.stop_reason == "refusal":
        items.append(ResponseOutputMessage(
            id=message.id, type="message", role="assistant", status="completed",
            content=[ResponseOutputRefusal(type="refusal", refusal="".join(texts) or "declined by the model")]))
        return items
    if texts:
        items.append(ResponseOutputMessage(
            id=message.id, type="message", role="assistant", status="completed",
            content=[ResponseOutputText(type="output_text", text="".join(texts), annotations=[], logprobs=[])]))
    return items + calls


def usage_of(message: Message) -> Usage:
    used = message.usage
    cache_read = used.cache_read_input_tokens or 0
    cache_write = used.cache_creation_input_tokens or 0
    details = getattr(used, "output_tokens_details", None)
    thinking = getattr(details, "thinking_tokens", 0) or 0
    total_input = used.input_tokens + cache_read + cache_write
    return Usage(requests=1, input_tokens=total_input, output_tokens=used.output_tokens,
                 total_tokens=total_input + used.output_tokens,
                 input_tokens_details=InputTokensDetails.model_validate(
                     {"cached_tokens": cache_read, "cache_write_tokens": cache_write}),
                 output_tokens_details=OutputTokensDetails(reasoning_tokens=thinking))
