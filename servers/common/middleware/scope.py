"""A caller sees and calls only the tools its token (or the stdio configuration) lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import Tool, ToolResult

from schemas.errors import ErrorCode
from servers.common.errors import ToolFailure
from servers.common.middleware.context import call_of, runtime_in


class ScopeMiddleware(Middleware):
    async def on_list_tools(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Sequence[Tool]]
                            ) -> Sequence[Tool]:
        tools = await call_next(context)
        principal = runtime_in(context).principal()
        return [tool for tool in tools if principal.may_use(tool.name)]

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, ToolResult]) -> ToolResult:
        principal = runtime_in(context).principal()
        name, _ = call_of(context)
        if not principal.may_use(name):
            raise ToolFailure(ErrorCode.FORBIDDEN, f"the tool {name!r} is outside this caller's scope "
                              f"({principal.scope}); use one of the tools listed for you or hand off to a human",
                              always_audit=True)
        return await call_next(context)
