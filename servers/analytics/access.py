"""Analytics is for staff and the analytics agent, never for a caller bound to one customer.

Its tables hold every customer's support history (support_threads_data.customer_email, dialogue bodies), and
the customer binding of the other servers works on arguments naming a customer, which SQL does not have. So a
customer-bound caller sees no analytics tool, and every call it makes is refused and audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import Tool, ToolResult

from schemas.errors import ErrorCode
from servers.common.errors import ToolFailure
from servers.common.middleware.context import runtime_in

REFUSAL = ("analytics reads every customer's support history, so a token bound to one customer may not use it; "
           "answer from the customer's own records (customers, subscriptions, shipping servers) or hand the "
           "question to staff, whose tokens carry no customer_id")


class NoCustomerBoundCallers(Middleware):
    async def on_list_tools(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Sequence[Tool]]
                            ) -> Sequence[Tool]:
        tools = await call_next(context)
        return [] if runtime_in(context).principal().customer_id is not None else tools

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, ToolResult]) -> ToolResult:
        if runtime_in(context).principal().customer_id is not None:
            raise ToolFailure(ErrorCode.FORBIDDEN, REFUSAL, always_audit=True)
        return await call_next(context)
