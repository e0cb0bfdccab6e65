"""No control characters anywhere in a tool's arguments: every string, at any depth, and every key.

One gate for every tool of every server, including arguments typed `Any` (analytics parameters, chart rows) that
no field type can guard. Without it a NUL byte reaches PostgreSQL and the caller gets a generic error instead of
the documented `invalid_argument` naming the field.
"""

from __future__ import annotations

from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult

from schemas.inputs import unsafe_character, unsafe_text_message
from servers.common.errors import invalid
from servers.common.middleware.context import call_of


def first_unsafe(arguments: dict[str, Any]) -> tuple[str, str] | None:
    """(field path, problem) of the first unsafe string in `arguments`, or None. Walks with an explicit stack, so
    a deeply nested argument cannot exhaust the interpreter's recursion limit."""
    stack: list[tuple[str, Any]] = [("", arguments)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            where = unsafe_character(value)
            if where is not None:
                return path, unsafe_text_message(where)
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                key_text = str(key)
                if unsafe_character(key_text) is not None:
                    # The key itself cannot be echoed safely: name its parent.
                    return path or "arguments", ("an argument name contains a control character; use the names "
                                                 "in the tool's input schema")
                children.append((f"{path}.{key_text}" if path else key_text, item))
            stack.extend(reversed(children))
        elif isinstance(value, list | tuple):
            stack.extend(reversed([(f"{path}.{index}" if path else str(index), item)
                                   for index, item in enumerate(value)]))
    return None


class ControlCharactersMiddleware(Middleware):
    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, ToolResult]) -> ToolResult:
        _, arguments = call_of(context)
        found = first_unsafe(arguments)
        if found is not None:
            field, problem = found
            raise invalid(field, problem)
        return await call_next(context)
