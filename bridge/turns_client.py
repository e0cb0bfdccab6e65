"""The orchestrator's HTTP API as the bridge calls it: POST /v1/turns with the service token."""

from __future__ import annotations

from typing import Protocol

import httpx
from pydantic import ValidationError

from schemas.services import TURNS_PATH
from schemas.turns import TurnRequest, TurnResponse

TIMEOUT_S = 120.0  # a turn with a model and several tools can take tens of seconds


class TurnFailed(Exception):
    """No answer this time; `retryable` when the same message can be sent again later (it replays, never repeats)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class TurnsApi(Protocol):
    async def turn(self, request: TurnRequest) -> TurnResponse: ...


class HttpTurns:
    def __init__(self, base_url: str, service_token: str, *, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT_S)
        self._owns_client = client is None
        self._url = base_url.rstrip("/") + TURNS_PATH
        self._headers = {"Authorization": f"Bearer {service_token}", "Content-Type": "application/json"}

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def turn(self, request: TurnRequest) -> TurnResponse:
        try:
            response = await self._client.post(self._url, content=request.model_dump_json(), headers=self._headers)
        except httpx.TransportError as exc:
            raise TurnFailed(f"the orchestrator is unreachable: {type(exc).__name__}", retryable=True) from None
        if response.status_code != 200:
            try:
                said = str(response.json().get("message", ""))
            except (ValueError, AttributeError):
                said = response.text[:200]
            # 401: a token being rotated; 408/429/5xx (503: its store is down): all pass. Other 4xx never will.
            retryable = response.status_code in (401, 408, 429) or response.status_code >= 500
            raise TurnFailed(f"the orchestrator answered {response.status_code}: {said}", retryable=retryable)
        try:
            return TurnResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise TurnFailed(f"the orchestrator's answer is not a TurnResponse: {exc.errors()[0]['msg']}",
                             retryable=False) from None
