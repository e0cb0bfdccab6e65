"""Chatwoot's REST API, as the agent bot uses it (token in the `api_access_token` header).

Which endpoints a bot token may call depends on the Chatwoot version (app/controllers/concerns/
access_token_auth_helper.rb): creating messages, toggle_status and assignments for years; toggle_typing_status since
early 2026; reading a conversation since mid 2026. The typing indicator is therefore best effort, and a refused read
answers None so that the worker falls back to the state the webhooks reported.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import httpx

from bridge.dispatch import PostMessage

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0


class ChatwootError(Exception):
    """A call that failed; `retryable` when trying again later can succeed (429, 5xx, network, timeouts)."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        # The request may have been carried out (a read timeout, a connection dropped mid-answer): a post is checked
        # against Chatwoot's echo before it is sent again.
        self.ambiguous = ambiguous


class ChatwootApi(Protocol):
    async def create_message(self, conversation_id: int, message: PostMessage) -> int | None:
        """Post a message or private note; the new message's id."""

    async def toggle_status(self, conversation_id: int, status: str) -> None: ...

    async def assign_team(self, conversation_id: int, team_id: int) -> None: ...

    async def typing(self, conversation_id: int, on: bool) -> None:
        """Show or hide "typing..." to the customer. Cosmetic: never raises."""

    async def conversation_status(self, conversation_id: int) -> str | None:
        """The conversation's status now, or None when this Chatwoot does not let a bot read conversations."""


def message_body(message: PostMessage) -> dict[str, Any]:
    """The JSON body of POST .../messages (swagger: conversation_message_create_payload)."""
    body: dict[str, Any] = {"content": message.content, "message_type": "outgoing", "private": message.private}
    if message.buttons:
        body["content_type"] = "input_select"
        body["content_attributes"] = {"items": [{"title": b.title, "value": b.value} for b in message.buttons]}
    return body


class HttpChatwoot:
    def __init__(self, base_url: str, api_token: str, account_id: int, *,
                 client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT_S)
        self._owns_client = client is None
        self._base = f"{base_url.rstrip('/')}/api/v1/accounts/{account_id}/conversations"
        self._headers = {"api_access_token": api_token}
        self._typing_refused = False
        self._reading_refused = False

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = await self._client.request(method, f"{self._base}/{path}", json=body, headers=self._headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached Chatwoot (down, restarting): try again later.
            raise ChatwootError(f"Chatwoot unreachable: {type(exc).__name__}", retryable=True) from None
        except httpx.TransportError as exc:
            raise ChatwootError(f"Chatwoot did not answer: {type(exc).__name__}", retryable=True,
                                ambiguous=True) from None
        if response.is_success:
            return response
        retryable = response.status_code == 429 or response.status_code >= 500
        raise ChatwootError(f"Chatwoot answered {response.status_code} to {method} {path}: {response.text[:200]}",
                            retryable=retryable, status=response.status_code)

    async def create_message(self, conversation_id: int, message: PostMessage) -> int | None:
        response = await self._call("POST", f"{conversation_id}/messages", message_body(message))
        try:
            found = response.json().get("id")
        except (ValueError, AttributeError):
            return None
        return found if isinstance(found, int) else None

    async def toggle_status(self, conversation_id: int, status: str) -> None:
        await self._call("POST", f"{conversation_id}/toggle_status", {"status": status})

    async def assign_team(self, conversation_id: int, team_id: int) -> None:
        await self._call("POST", f"{conversation_id}/assignments", {"team_id": team_id})

    async def typing(self, conversation_id: int, on: bool) -> None:
        if self._typing_refused:
            return
        try:
            await self._call("POST", f"{conversation_id}/toggle_typing_status",
                             {"typing_status": "on" if on else "off"})
        except ChatwootError as exc:
            if exc.status in (401, 403):
                self._typing_refused = True  # an older Chatwoot: bots may not; stop asking
            log.debug("typing indicator not shown: %s", exc)

    async def conversation_status(self, conversation_id: int) -> str | None:
        if self._reading_refused:
            return None
        try:
            response = await self._call("GET", f"{conversation_id}")
        except ChatwootError as exc:
            if exc.status in (401, 403):
                self._reading_refused = True
                return None
            raise
        status = response.json().get("status")
        return status if isinstance(status, str) else None
