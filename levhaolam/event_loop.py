"""The event loop every long-running command uses: uvloop (libuv), measured faster than asyncio's own loop for the
many small loopback round trips of a turn (HTTP to the MCP servers, PostgreSQL); uvicorn then also parses HTTP with
httptools instead of pure-Python h11."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)
