"""Tracing for the platform: every customer turn is one OpenTelemetry trace (router, identification, brain and its
model calls, each MCP tool call down into the server that ran it, the gate's decision), exported to Langfuse, to
any OTLP endpoint, or nowhere.

The API is small on purpose, so the code it observes changes little:

- `setup(settings, service_name)` once per process (`levhaolam serve ...`, `chat`, `eval run`);
- `span(name, **attributes)` as a context manager, `traced(name, attributes=..., result=...)` as a decorator;
- `annotate(...)` / `rename(...)` on the current span, `current_trace_id()` for the turn's answer.

Attribute names follow the OpenTelemetry GenAI conventions where they exist (`telemetry.genai`), with Langfuse's
own names beside them where Langfuse reads those instead (session, input/output, observation type). Tool
arguments and message text pass `telemetry.redaction` first.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from enum import Enum
from typing import Any, TypeVar, cast

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from telemetry import genai
from telemetry.exporting import exporting, flush, install, setup, shutdown
from telemetry.redaction import redact_arguments, redact_text, redacted_json

__all__ = ["annotate", "current_trace_id", "exporting", "flush", "genai", "install", "record_content",
           "redact_arguments", "redact_text", "redacted_json", "rename", "setup", "shutdown", "span", "traced",
           "trace_url"]

TRACER_NAME = "levhaolam"
log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
_content = {"on": True}


def record_content(on: bool) -> None:
    """Whether message and reply text (redacted) go into spans; off keeps only structure and numbers."""
    _content["on"] = on


def content(text: str | None) -> str | None:
    """The text as a span may carry it: redacted, or nothing when content recording is off."""
    if text is None or not _content["on"]:
        return None
    return redact_text(text)


def _attribute(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, list | tuple) and all(isinstance(v, Enum) for v in value):
        return [v.value for v in value]
    return redacted_json(value)


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _attribute(value) for key, value in attributes.items() if value is not None}


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


@contextlib.contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None, *, kind: SpanKind = SpanKind.INTERNAL,
         **more: Any) -> Iterator[Span]:
    """A child of the current span (or a new trace). `attributes` for dotted names, keywords for plain ones. With
    nothing exporting, no span at all: it would be dropped, and opening and describing one costs ~10-50 us."""
    if not exporting():
        yield trace.INVALID_SPAN
        return
    with tracer().start_as_current_span(name, kind=kind, attributes=_clean({**(attributes or {}), **more})) as opened:
        yield opened


def annotate(attributes: Mapping[str, Any] | None = None, /, **more: Any) -> None:
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes(_clean({**(attributes or {}), **more}))


def rename(name: str) -> None:
    current = trace.get_current_span()
    if current.is_recording():
        current.update_name(name)


def fail(reason: str) -> None:
    """Mark the current span failed without an exception (a tool's typed error, a brain that gave up)."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_status(Status(StatusCode.ERROR, reason))
        current.set_attribute(genai.ERROR_TYPE, reason)


def current_trace_id() -> str | None:
    """The current trace's id (32 hex digits, as Langfuse and OTLP backends show it), or None when not tracing."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None


def trace_url(template: str | None, trace_id: str | None) -> str | None:
    if not template or not trace_id:
        return None
    return template.replace("{trace_id}", trace_id)


def _description_failed(describer: Any, exc: Exception) -> None:
    """A describer that raises costs the span its attributes, never the call; it must not do so silently. Only the
    exception's type is logged at warning level (its message may quote a customer's data)."""
    where = getattr(describer, "__qualname__", repr(describer))
    log.warning("span description %s failed: %s", where, type(exc).__name__)
    log.debug("span description %s failed", where, exc_info=exc)


def traced(name: str | Callable[..., str], attributes: Callable[..., Mapping[str, Any]] | None = None,
           result: Callable[[Any], Mapping[str, Any]] | None = None) -> Callable[[F], F]:
    """Run the function inside a span. `name` and `attributes(*args, **kwargs)` may describe the call (they get
    the same arguments, `self` included); `result(returned)` describes what came back. A description that fails
    never fails the call: it is not worth a customer's turn."""

    def opened(args: tuple[Any, ...], kwargs: dict[str, Any]) -> contextlib.AbstractContextManager[Span]:
        described: Mapping[str, Any] = {}
        title = name if isinstance(name, str) else "call"
        if attributes is not None:
            try:
                described = attributes(*args, **kwargs)
            except Exception as exc:
                _description_failed(attributes, exc)
        if not isinstance(name, str):
            try:
                title = name(*args, **kwargs)
            except Exception as exc:
                _description_failed(name, exc)
        return span(title, described)

    def describe(opened_span: Span, returned: Any) -> None:
        # On the span this call opened, not on "the current span": code inside the call (an SDK, a transport) may
        # leave another context current, and the description must still land where it belongs.
        if result is not None and opened_span.is_recording():
            try:
                opened_span.set_attributes(_clean(dict(result(returned))))
            except Exception as exc:
                _description_failed(result, exc)

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                if not exporting():  # nothing would read the span or its descriptions
                    return await fn(*args, **kwargs)
                with opened(args, kwargs) as current:
                    returned = await fn(*args, **kwargs)
                    describe(current, returned)
                    return returned

            return cast(F, run_async)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            if not exporting():
                return fn(*args, **kwargs)
            with opened(args, kwargs) as current:
                returned = fn(*args, **kwargs)
                describe(current, returned)
                return returned

        return cast(F, run)

    return decorate
