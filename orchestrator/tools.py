"""Calling MCP tools for one turn, by code (the offline brain, confirmations, identification).

The allow-list is checked here as well as in the servers (from the turn's token): a tool outside it is refused
before any request leaves the orchestrator.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from mcp_types import CallToolResult

import telemetry
from orchestrator.costs import note_evidence
from orchestrator.guardrails import prescan
from schemas.errors import ErrorCode, ToolErrorInfo
from schemas.services import McpServer
from telemetry import describe


class ToolNotAllowed(RuntimeError):
    """Code asked for a tool its category may not use: a bug, never a customer's doing."""


@dataclass(frozen=True)
class ToolOutcome:
    tool: str
    data: dict[str, Any]
    error: ToolErrorInfo | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def needs_confirmation(self) -> bool:
        return self.ok and self.data.get("status") == "confirmation_required"

    @property
    def executed(self) -> bool:
        return self.ok and self.data.get("status") == "executed"


@dataclass(frozen=True)
class ToolCall:
    server: str
    tool: str
    ok: bool
    error_code: str | None
    latency_ms: float


# A moment after a tool answers, the turn's next call is out and its server busy on the other core: the output
# guard's reading of this answer is done then, off the turn's path (a cached result it finds at the end).
PRESCAN_DELAY_S = 0.001


def note_outcome(outcome: ToolOutcome) -> None:
    """What the reply of this turn may rest on: the output guard checks its numbers and scans it for injections."""
    text = outcome.error.message if outcome.error else json.dumps(outcome.data, default=str, ensure_ascii=False)
    note_evidence(outcome.tool, text)
    asyncio.get_running_loop().call_later(PRESCAN_DELAY_S, prescan, outcome.tool, text)


def outcome_of(tool: str, result: CallToolResult) -> ToolOutcome:
    text = "".join(getattr(part, "text", "") for part in result.content)
    if result.is_error:
        try:
            return ToolOutcome(tool, {}, ToolErrorInfo.model_validate_json(text))
        except ValueError:
            return ToolOutcome(tool, {}, ToolErrorInfo(code=ErrorCode.UNAVAILABLE, message=text or "tool failed"))
    if result.structured_content is not None:
        data = dict(result.structured_content)
        # FastMCP wraps non-object results as {"result": ...}
        return ToolOutcome(tool, data)
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        parsed = {"text": text}
    return ToolOutcome(tool, parsed if isinstance(parsed, dict) else {"result": parsed})


@dataclass
class TurnTools:
    """The leased connections of a turn and the tools it may call on each."""

    connections: dict[McpServer, Any]
    allowed: dict[str, McpServer]
    calls: list[ToolCall] = field(default_factory=list)

    @telemetry.traced(describe.tool_name, describe.tool_call, describe.tool_outcome)
    async def call(self, tool: str, **arguments: Any) -> ToolOutcome:
        server = self.allowed.get(tool)
        if server is None:
            raise ToolNotAllowed(f"{tool!r} is not allowed in this turn")
        started = time.perf_counter()
        result = await self.connections[server].call_tool(tool, arguments)
        outcome = outcome_of(tool, result)
        note_outcome(outcome)
        self.calls.append(ToolCall(server.value, tool, outcome.ok, outcome.error.code.value if outcome.error else None,
                                   (time.perf_counter() - started) * 1000))
        return outcome
