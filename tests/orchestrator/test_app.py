"""The turn API over real HTTP: service token, typed errors for bad requests, a conversation, a replayed retry."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from orchestrator.app import create_app
from orchestrator.pipeline import Pipeline
from schemas.services import TURNS_PATH
from servers.common.loopback import serve_on_loopback
from tests.orchestrator.conftest import Platform

SERVICE_TOKEN = "service-token-" + "s" * 40


@pytest.fixture
async def api(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    @contextlib.asynccontextmanager
    async def pipeline() -> AsyncIterator[Pipeline]:
        yield platform.pipeline

    async with serve_on_loopback(create_app(pipeline, SERVICE_TOKEN)) as base:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}) as client:
            yield client


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": SERVICE_TOKEN}])
async def test_a_caller_without_the_service_token_is_refused(api: httpx.AsyncClient, headers: dict) -> None:
    response = await api.post(TURNS_PATH, json={"conversation_id": "a", "message_id": "1", "text": "hi"},
                              headers=headers or {"Authorization": ""})
    assert response.status_code == 401 and response.json()["code"] == "forbidden"


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"message_id": "1", "text": "hi"}, "conversation_id", "Field required"),
    ({"conversation_id": "a b", "message_id": "1", "text": "hi"}, "conversation_id", "should match pattern"),
    ({"conversation_id": "a", "message_id": "1"}, None, "a turn needs text, a button_value or attachments"),
    ({"conversation_id": "a", "message_id": "1", "text": "x" * 4001}, "text", "at most 4000 characters"),
    ({"conversation_id": "a", "message_id": "1", "text": "hi", "channel": "pigeon"}, "channel", "Input should be"),
    ({"conversation_id": "a", "message_id": "1", "attachments": [{"url": "not a url", "content_type": "image/png"}]},
     "attachments.0.url", "valid URL"),
])
async def test_a_bad_request_is_a_typed_error_naming_the_field(api: httpx.AsyncClient, body: dict,
                                                                field: str | None, message: str) -> None:
    response = await api.post(TURNS_PATH, json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "invalid_argument" and error.get("field") == field and message in error["message"]


async def test_not_json_at_all(api: httpx.AsyncClient) -> None:
    response = await api.post(TURNS_PATH, content=b"\x00\xff{", headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["code"] == "invalid_argument"


async def test_a_conversation_over_http_and_a_retried_message(api: httpx.AsyncClient, platform: Platform) -> None:
    customer = await platform.customer()
    body = {"conversation_id": "cw-77", "message_id": "501", "channel": "whatsapp", "text": "skip my next box",
            "contact": {"name": "Dana", "email": customer["email"]}}
    first = await api.post(TURNS_PATH, json=body)
    assert first.status_code == 200
    answer = first.json()
    assert set(answer) == {"reply", "buttons", "actions_taken", "decision", "reasons", "category", "secondary",
                           "trace_id", "cost", "replayed"}
    assert answer["category"] == "skip_month" and answer["buttons"][0]["value"].startswith("confirm:")
    again = (await api.post(TURNS_PATH, json=body)).json()
    assert again["replayed"] is True and again["reply"] == answer["reply"]
    health = await api.get("/healthz")
    assert health.json() == {"status": "ok"}
