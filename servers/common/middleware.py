"""Cross-cutting rules applied to every tool call: scope, customer binding, typed errors."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import psycopg
from fastmcp.exceptions import ToolError
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
        except ToolFailure as failure:
            await self._audit_refused_action(context, runtime, name, arguments, failure)
            raise
        except FastMCPValidationError as exc:
            cause = exc.__cause__
            failure = (from_validation_error(cause) if isinstance(cause, PydanticValidationError)
                       else ToolFailure(ErrorCode.INVALID_ARGUMENT, str(exc)))
            await self._audit_refused_action(context, runtime, name, arguments, failure)
            raise failure from None
        except (psycopg.OperationalError, PoolTimeout):
            raise ToolFailure(ErrorCode.UNAVAILABLE, UNAVAILABLE) from None
        except ToolError as exc:
            # FastMCP masks unexpected exceptions as a generic ToolError; an outage deserves a clear answer.
            if isinstance(exc.__cause__, (psycopg.OperationalError, PoolTimeout)):
                raise ToolFailure(ErrorCode.UNAVAILABLE, UNAVAILABLE) from None
            raise

    async def _audit_refused_action(self, context: MiddlewareContext[Any], runtime: Runtime, name: str,
                                    arguments: dict[str, Any], failure: ToolFailure) -> None:
        """Refusals of state-changing tools are audited even when the action engine never ran (bad input)."""
        if failure.audited or context.fastmcp_context is None:
            return
        tool = await context.fastmcp_context.fastmcp.get_tool(name)
        if tool is None or (tool.annotations is not None and tool.annotations.read_only_hint):
            return
        with contextlib.suppress(psycopg.OperationalError, PoolTimeout):
            await self._write_refusal(runtime, name, arguments, failure)
        failure.audited = True

    @staticmethod
    async def _write_refusal(runtime: Runtime, tool: str, arguments: dict[str, Any], failure: ToolFailure) -> None:
        customer = arguments.get("customer_id")
        async with runtime.pool.connection() as conn:
            await audit.record(conn, principal=runtime.principal(), server=runtime.server, tool=tool,
                               arguments=arguments, outcome=AuditOutcome.REFUSED.value,
                               customer_id=customer if isinstance(customer, int) else None,
                               error_code=failure.info.code.value,
                               result={"message": failure.info.message, "field": failure.info.field})

    async def _refuse(self, runtime: Runtime, tool: str, arguments: dict[str, Any], failure: ToolFailure) -> None:
        # The refusal stands even when it cannot be written down.
        with contextlib.suppress(psycopg.OperationalError, PoolTimeout):
            await self._write_refusal(runtime, tool, arguments, failure)
        failure.audited = True
        raise failure
