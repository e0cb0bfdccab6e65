"""Server spans join the turn's trace and say how the call ended.

FastMCP opens one SERVER span per request and continues the caller's trace from the request's `_meta.traceparent`
(the MCP client injects it), so nothing here has to extract context. This middleware, outermost, adds what only
the platform knows: which server, which caller scope, and the typed error code of a refusal (FastMCP records every
tool error as just `tool_error`). Arguments are never recorded here: the orchestrator's own span has them redacted.
"""

from __future__ import annotations

from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult
from opentelemetry import trace

from servers.common.errors import ToolFailure
from servers.common.middleware.context import runtime_in


class TracingMiddleware(Middleware):
    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, ToolResult]) -> ToolResult:
        span = trace.get_current_span()
        if not span.is_recording():
            return await call_next(context)
        runtime = runtime_in(context)
        span.set_attributes({"levhaolam.mcp.server": runtime.server,
                             "levhaolam.caller.scope": runtime.principal().scope})
        try:
            result = await call_next(context)
        except ToolFailure as exc:
            span.set_attributes({"levhaolam.tool.outcome": exc.info.code.value, "error.type": exc.info.code.value})
            raise
        span.set_attribute("levhaolam.tool.outcome", "ok")
        return result
