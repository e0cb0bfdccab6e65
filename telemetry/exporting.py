"""Where spans go: Langfuse when its keys are set, any OTLP/HTTP endpoint, both, or nowhere.

The process installs one global `TracerProvider` (FastMCP and the MCP SDK emit their spans through the global one,
so server spans and client spans land in the same pipeline) whose only processor is a switch. What the switch
forwards to can be replaced (tests point it at a local receiver, then at another): OpenTelemetry lets the global
provider be set once per process, and a provider cannot drop a processor it was given.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from schemas.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_LANGFUSE_HOST = "https://cloud.langfuse.com"
OUR_SCOPES = frozenset({"levhaolam", "fastmcp", "mcp-python-sdk"})


class SwitchProcessor(SpanProcessor):
    """Forwards to the processors currently configured; none means spans are created and dropped."""

    def __init__(self) -> None:
        self._targets: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self._targets)

    def replace(self, targets: Sequence[SpanProcessor]) -> None:
        with self._lock:
            old, self._targets = self._targets, tuple(targets)
        for processor in old:
            processor.shutdown()  # flushes what it still holds

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self._targets:
            processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._targets:
            processor.on_end(span)

    def shutdown(self) -> None:
        self.replace(())

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self._targets)


_switch = SwitchProcessor()
_installed: TracerProvider | None = None
_install_lock = threading.Lock()


def _provider(service_name: str) -> TracerProvider:
    global _installed
    with _install_lock:
        if _installed is None:
            provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
            provider.add_span_processor(_switch)
            trace.set_tracer_provider(provider)
            _installed = provider
        return _installed


def exports_to(span: ReadableSpan) -> bool:
    """What Langfuse receives: our own spans and the MCP ones, plus whatever its default filter takes (any
    `gen_ai.*` span, known LLM instrumentations). Its default alone would drop the router, gate and MCP spans."""
    from langfuse.span_filter import is_default_export_span

    scope = span.instrumentation_scope.name if span.instrumentation_scope else ""
    return scope in OUR_SCOPES or is_default_export_span(span)


def langfuse_processor(settings: Settings) -> SpanProcessor | None:
    if settings.langfuse_public_key is None or settings.langfuse_secret_key is None:
        return None
    # Not re-exported by the package; langfuse is pinned exactly, so the private path is stable for us.
    from langfuse._client.span_processor import LangfuseSpanProcessor

    return LangfuseSpanProcessor(public_key=settings.langfuse_public_key.get_secret_value(),
                                 secret_key=settings.langfuse_secret_key.get_secret_value(),
                                 base_url=(settings.langfuse_host or DEFAULT_LANGFUSE_HOST).rstrip("/"),
                                 should_export_span=exports_to)


def otlp_headers(settings: Settings) -> dict[str, str]:
    """`OTEL_EXPORTER_OTLP_HEADERS` as the OpenTelemetry spec spells it: `key=value,key2=value2`."""
    if settings.otlp_headers is None:
        return {}
    pairs = (part.partition("=") for part in settings.otlp_headers.get_secret_value().split(","))
    return {key.strip(): value.strip() for key, _, value in pairs if key.strip()}


def otlp_processor(settings: Settings) -> SpanProcessor | None:
    if not settings.otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    endpoint = settings.otlp_endpoint.rstrip("/")
    # The spec's OTEL_EXPORTER_OTLP_ENDPOINT is the base URL; traces go to its /v1/traces.
    if not endpoint.endswith("/v1/traces"):
        endpoint += "/v1/traces"
    return BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, headers=otlp_headers(settings), timeout=10))


def configured_processors(settings: Settings) -> list[SpanProcessor]:
    return [p for p in (langfuse_processor(settings), otlp_processor(settings)) if p is not None]


def install(processors: Sequence[SpanProcessor], service_name: str = "levhaolam") -> None:
    """Send spans to exactly these processors from now on (an empty list: keep creating spans, export none)."""
    _provider(service_name)
    _switch.replace(processors)
    from telemetry.agents_bridge import route_agents_traces

    route_agents_traces(bool(processors))


def setup(settings: Settings, service_name: str) -> bool:
    """Export as the settings say, once per process; later calls (a second server in the same process) keep what
    the first configured. Nothing configured: no provider at all, so spans cost nothing. True when exporting."""
    if _switch.active:
        return True
    from telemetry import record_content

    record_content(settings.trace_content)
    processors = configured_processors(settings)
    if not processors:
        return False
    install(processors, service_name)
    log.info("tracing to %s", ", ".join(type(p).__name__ for p in processors))
    return True


def exporting() -> bool:
    return _switch.active


def flush(timeout_millis: int = 10_000) -> bool:
    return _switch.force_flush(timeout_millis)


def shutdown() -> None:
    """Flush and stop exporting (the provider stays: spans are created and dropped)."""
    _switch.replace(())
    from telemetry.agents_bridge import route_agents_traces

    route_agents_traces(False)
