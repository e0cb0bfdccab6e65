"""A cap on the size of an HTTP request body, before anything parses it.

The largest valid tool call (a chart of 1000 rows, a 20,000-character query) is far below the cap; a body above it
is refused with 413 and a JSON error without being read to the end, so a caller cannot make a server hold or
parse megabytes, nor push them toward the audit log.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.errors import ErrorCode, ToolErrorInfo

MAX_REQUEST_BYTES = 512 * 1024


def too_large_body(limit: int) -> bytes:
    """The 413 answer: a JSON-RPC error (what an MCP client reads) whose data is the platform's typed error."""
    info = ToolErrorInfo(code=ErrorCode.INVALID_ARGUMENT, field=None,
                         message=f"the request is larger than {limit} bytes, the most this server accepts; send "
                                 "shorter arguments (long texts are refused by the tools anyway)")
    return json.dumps({"jsonrpc": "2.0", "id": None, "error": {
        "code": -32600, "message": info.message, "data": info.model_dump(mode="json", exclude_none=True)}}).encode()


class BodyLimitMiddleware:
    """Pure ASGI. A declared Content-Length over the cap is refused at once; a chunked body is buffered up to the
    cap and replayed to the app, and past the cap the rest is read and dropped (up to DRAIN_BYTES) so that the
    client, still sending, reads the 413 instead of a reset connection."""

    DRAIN_BYTES = 8 * MAX_REQUEST_BYTES

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        replay: list[Message]
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                replay = [message]
                break
            body = message.get("body", b"")
            size += len(body)
            more = bool(message.get("more_body", False))
            if size > self.max_bytes:
                await self._drain(receive, more, size)
                await self._refuse(send)
                return
            chunks.append(body)
            if not more:
                replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)

    async def _drain(self, receive: Receive, more: bool, size: int) -> None:
        while more and size <= self.DRAIN_BYTES:
            message = await receive()
            size += len(message.get("body", b""))
            more = message["type"] == "http.request" and bool(message.get("more_body", False))

    async def _refuse(self, send: Send) -> None:
        body = too_large_body(self.max_bytes)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
