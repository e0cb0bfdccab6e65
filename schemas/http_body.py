"""Reading a request body no larger than a limit: the one rule for every HTTP boundary of ours that takes a body (the
turn API, the Chatwoot webhook, the chat page). Plain bytes in, so it needs no web framework."""

from __future__ import annotations

from collections.abc import AsyncIterable


async def capped_body(chunks: AsyncIterable[bytes], declared_length: str | None, limit: int) -> bytes | None:
    """The body, or None once it is known to be larger than `limit` bytes: by its declared Content-Length before any
    of it is read, or as soon as the chunks read pass the limit (the rest is never read, so never held)."""
    if declared_length is not None and declared_length.isdigit() and int(declared_length) > limit:
        return None
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)
