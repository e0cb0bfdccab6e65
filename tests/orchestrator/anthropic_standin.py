"""A local stand-in for the Anthropic Messages API: the real `AsyncAnthropic` client (base_url pointed here) gets
recorded responses, in order, and every request it sent is kept for the test to inspect."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from servers.common.loopback import serve_on_loopback

RECORDINGS = Path(__file__).with_name("anthropic_recordings")


def recording(name: str, **values: Any) -> dict[str, Any]:
    """A recorded response; `{name}` placeholders inside string values are replaced (a whole-string placeholder
    takes the value's type, so `"{customer_id}"` becomes the integer)."""
    data = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            for key, replacement in values.items():
                if value == f"{{{key}}}":
                    return replacement
                value = value.replace(f"{{{key}}}", str(replacement))
            return value
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    filled: dict[str, Any] = fill(data)
    return filled


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class AnthropicStandIn:
    base_url: str = ""
    queue: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    delay_s: float = 0.0

    def serve(self, *names: str, **values: Any) -> None:
        self.queue.extend(recording(name, **values) for name in names)

    def app(self) -> Starlette:
        async def messages(request: Request) -> Response:
            body = json.loads(await request.body())
            self.requests.append(Seen(request.url.path, dict(request.headers), body))
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if not self.queue:
                return JSONResponse({"type": "error", "error": {"type": "api_error",
                                                                "message": "stand-in: no recording left"}}, 500,
                                    headers={"x-should-retry": "false"})
            answer = self.queue.pop(0)
            headers = {k: v for k, v in answer["headers"].items() if k != "content-type"}
            return JSONResponse(answer["body"], answer["status"], headers=headers)

        return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])


@contextlib.asynccontextmanager
async def anthropic_standin() -> AsyncIterator[AnthropicStandIn]:
    standin = AnthropicStandIn()
    async with serve_on_loopback(standin.app()) as base:
        standin.base_url = base
        yield standin
