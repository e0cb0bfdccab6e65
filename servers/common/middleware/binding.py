"""A caller bound to one customer (a conversation's token) may only name that customer."""

from __future__ import annotations

from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult

from servers.common.errors import not_found
from servers.common.middleware.context import call_of, runtime_in


class CustomerBindingMiddleware(Middleware):
    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, ToolResult]) -> ToolResult:
        bound = runtime_in(context).principal().customer_id
        _, arguments = call_of(context)
        if bound is not None and "customer_id" in arguments and arguments["customer_id"] != bound:
            # Another customer looks exactly like nobody: existence is not disclosed.
            failure = not_found("That customer", "customer_id")
            failure.always_audit = True
            raise failure
        return await call_next(context)
