"""What every middleware needs from a call: the server's runtime, the tool's name and arguments."""

from __future__ import annotations

from typing import Any

from fastmcp.server.middleware import MiddlewareContext

from servers.common.runtime import Runtime


def runtime_in(context: MiddlewareContext[Any]) -> Runtime:
    assert context.fastmcp_context is not None
    runtime: Runtime = context.fastmcp_context.lifespan_context["runtime"]
    return runtime


def call_of(context: MiddlewareContext[Any]) -> tuple[str, dict[str, Any]]:
    return context.message.name, dict(context.message.arguments or {})
