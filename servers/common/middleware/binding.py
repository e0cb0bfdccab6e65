"""A caller bound to one customer (a conversation's token) may only name that customer.

This middleware guards the `customer_id` argument every customer tool takes; records named by their own number
(a subscription, an order, a claim, a tracking number) are then looked up within that customer only, so another
customer's number answers exactly like a number that does not exist. Tools that find a customer from another
identifier (an e-mail, a phone, a cancel link) apply the binding themselves (`Principal.customer_id`).
"""

from __future__ import annotations

from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult

from servers.common.errors import invalid, not_found
from servers.common.middleware.context import call_of, runtime_in


class CustomerBindingMiddleware(Middleware):
    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, ToolResult]) -> ToolResult:
        bound = runtime_in(context).principal().customer_id
        _, arguments = call_of(context)
        if bound is not None and "customer_id" in arguments:
            named = arguments["customer_id"]
            # Decided here, not left to validation: `true` equals 1 and "1" names 1 to a lax reader.
            if type(named) is not int:
                failure = invalid("customer_id", "give the customer's id as a whole number, e.g. 123")
                failure.always_audit = True
                raise failure
            if named != bound:
                # Another customer looks exactly like nobody: existence is not disclosed.
                failure = not_found("That customer", "customer_id")
                failure.always_audit = True
                raise failure
        return await call_next(context)
