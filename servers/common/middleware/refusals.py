"""Refused calls go to the append-only audit log: every refusal of a state-changing tool (whether or not the
action engine ran), every access refusal, and every refusal of a caller bound to one customer, written once. A
refusal stands even when it cannot be written.

A customer-bound token belongs to a conversation, the caller a customer's own words can steer: a `not_found` it
gets for another customer's order number is a probe worth keeping, even on a read-only tool."""

from __future__ import annotations

import contextlib
from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult

from schemas.actions import AuditOutcome
from servers.common import audit
from servers.common.errors import ToolFailure
from servers.common.middleware.context import call_of, runtime_in
from servers.common.middleware.typed_errors import OUTAGES
from servers.common.runtime import Runtime


class RefusalAuditMiddleware(Middleware):
    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, ToolResult]) -> ToolResult:
        try:
            return await call_next(context)
        except ToolFailure as failure:
            if not failure.audited and (failure.always_audit or _bound(context) or await _changes_state(context)):
                name, arguments = call_of(context)
                with contextlib.suppress(*OUTAGES):
                    await _write(runtime_in(context), name, arguments, failure)
                failure.audited = True
            raise


def _bound(context: MiddlewareContext[Any]) -> bool:
    return context.fastmcp_context is not None and runtime_in(context).principal().customer_id is not None


async def _changes_state(context: MiddlewareContext[Any]) -> bool:
    if context.fastmcp_context is None:
        return False
    tool = await context.fastmcp_context.fastmcp.get_tool(context.message.name)
    return tool is not None and not (tool.annotations is not None and tool.annotations.read_only_hint)


async def _write(runtime: Runtime, tool: str, arguments: dict[str, Any], failure: ToolFailure) -> None:
    customer = arguments.get("customer_id")
    async with runtime.pool.connection() as conn:
        await audit.record(conn, principal=runtime.principal(), server=runtime.server, tool=tool,
                           arguments=arguments, outcome=AuditOutcome.REFUSED.value,
                           # `true` is an int to Python but not an id; the raw argument is what the caller sent.
                           customer_id=customer if type(customer) is int else None,
                           error_code=failure.info.code.value,
                           result={"message": failure.info.message, "field": failure.info.field})
