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
        except ToolError as exc:
            # FastMCP masks unexpected exceptions as a generic ToolError; an outage deserves a clear answer.
            if isinstance(exc.__cause__, OUTAGES):
                raise ToolFailure(ErrorCode.UNAVAILABLE, UNAVAILABLE) from None
            raise
