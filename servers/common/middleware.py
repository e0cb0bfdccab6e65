"""Cross-cutting rules applied to every tool call: scope, customer binding, typed errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from fastmcp.exceptions import ValidationError as FastMCPValidationError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import Tool, ToolResult
from psycopg_pool import PoolTimeout
from pydantic import ValidationError as PydanticValidationError

from schemas.actions import AuditOutcome
from schemas.errors import ErrorCode
from servers.common import audit
from servers.common.errors import ToolFailure, from_validation_error, not_found
from servers.common.runtime import Runtime

UNAVAILABLE = ("the database is not reachable right now; nothing was changed. Try again in a minute, or hand the "
               "conversation to a human")


def _runtime(context: MiddlewareContext[Any]) -> Runtime:
    assert context.fastmcp_context is not None
    return context.fastmcp_context.lifespan_context["runtime"]


class GuardMiddleware(Middleware):
    """Lists only the caller's tools; refuses and audits calls outside its scope or for another customer;
    turns bad arguments and database outages into typed errors."""

    async def on_list_tools(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Sequence[Tool]]
                            ) -> Sequence[Tool]:
        tools = await call_next(context)
        principal = _runtime(context).principal()
        return [tool for tool in tools if principal.may_use(tool.name)]

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, ToolResult]) -> ToolResult:
        runtime = _runtime(context)
        principal = runtime.principal()
        name = context.message.name
        arguments = dict(context.message.arguments or {})
        if not principal.may_use(name):
            await self._refuse(runtime, name, arguments, ToolFailure(
                ErrorCode.FORBIDDEN, f"the tool {name!r} is outside this caller's scope ({principal.scope}); "
                "use one of the tools listed for you or hand off to a human"))
        bound = principal.customer_id
        if bound is not None and "customer_id" in arguments and arguments["customer_id"] != bound:
            # A conversation may only touch its own verified customer; others look like nobody.
            await self._refuse(runtime, name, arguments, not_found("That customer", "customer_id"))
        try:
            return await call_next(context)
        except FastMCPValidationError as exc:
            cause = exc.__cause__
            if isinstance(cause, PydanticValidationError):
                raise from_validation_error(cause) from None
            raise ToolFailure(ErrorCode.INVALID_ARGUMENT, str(exc)) from None
        except (psycopg.OperationalError, PoolTimeout):
            raise ToolFailure(ErrorCode.UNAVAILABLE, UNAVAILABLE) from None

    @staticmethod
    async def _refuse(runtime: Runtime, tool: str, arguments: dict[str, Any], failure: ToolFailure) -> None:
        customer = arguments.get("customer_id")
        try:
            async with runtime.pool.connection() as conn:
                await audit.record(conn, principal=runtime.principal(), server=runtime.server, tool=tool,
                                   arguments=arguments, outcome=AuditOutcome.REFUSED.value,
                                   customer_id=customer if isinstance(customer, int) else None,
                                   error_code=failure.info.code.value, result={"message": failure.info.message})
        except (psycopg.OperationalError, PoolTimeout):
            pass  # the refusal stands even when it cannot be written down
        raise failure
