"""Bad arguments and database outages reach the caller as the documented `{"code","field","message"}`."""

from __future__ import annotations

from typing import Any

import psycopg
from fastmcp.exceptions import NotFoundError, ToolError
from fastmcp.exceptions import ValidationError as FastMCPValidationError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult
from psycopg_pool import PoolTimeout
from pydantic import ValidationError as PydanticValidationError

from schemas.errors import ErrorCode
from servers.common.errors import ToolFailure, from_validation_error

UNAVAILABLE = ("the database is not reachable right now; nothing was changed. Try again in a minute, or hand the "
               "conversation to a human")
OUTAGES = (psycopg.OperationalError, PoolTimeout)
# The last line behind the input rules: a value PostgreSQL refuses to take (out of range, not representable) came
# from the caller, since the server builds no values of its own that could be refused; its transaction rolled back.
UNSTORABLE = ("a value in the arguments cannot be stored (out of range or not representable); nothing was "
              "changed. Check the values with the customer and call again")


class TypedErrorsMiddleware(Middleware):
    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, ToolResult]) -> ToolResult:
        try:
            return await call_next(context)
        except ToolFailure:
            raise
        except NotFoundError:
            # A made-up tool name: the caller may hold "*", so the scope did not refuse it.
            raise ToolFailure(ErrorCode.NOT_FOUND, f"this server has no tool named {context.message.name!r}; call "
                              "one of the tools it lists") from None
        except FastMCPValidationError as exc:
            cause = exc.__cause__
            raise (from_validation_error(cause) if isinstance(cause, PydanticValidationError)
                   else ToolFailure(ErrorCode.INVALID_ARGUMENT, str(exc))) from None
        except OUTAGES:
            raise ToolFailure(ErrorCode.UNAVAILABLE, UNAVAILABLE) from None
        except psycopg.DataError:
            raise ToolFailure(ErrorCode.INVALID_ARGUMENT, UNSTORABLE) from None
        except ToolError as exc:
            # FastMCP masks unexpected exceptions as a generic ToolError; an outage or a value the database refused
            # deserves a clear answer (and, for a state-changing tool, an audited refusal).
            if isinstance(exc.__cause__, OUTAGES):
                raise ToolFailure(ErrorCode.UNAVAILABLE, UNAVAILABLE) from None
            if isinstance(exc.__cause__, psycopg.DataError):
                raise ToolFailure(ErrorCode.INVALID_ARGUMENT, UNSTORABLE) from None
            raise
