"""The turn API over real HTTP: service token, typed errors for bad requests, a conversation, a replayed retry."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from orchestrator.app import MAX_BODY_BYTES, create_app
from orchestrator.pipeline import Pipeline
from schemas.corrections import CORRECTIONS_PATH
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
    ({"conversation_id": "a", "message_id": "1"}, "text", "a turn needs text, a button_value or attachments"),
    ({"conversation_id": "a", "message_id": "1", "text": "  "}, "text", "a turn needs text, a button_value or"),
    ({"conversation_id": "a", "message_id": "1", "text": "hi", "contact": {"email": "not an email"}}, "contact.email",
     "value is not a valid email address"),
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


NUL = "\u0000"
TURN = {"conversation_id": "cw-1", "message_id": "1", "text": "hi"}


@pytest.mark.parametrize(("body", "field"), [
    (TURN | {"text": f"hi{NUL}"}, "text"),
    (TURN | {"button_value": f"confirm:1{NUL}"}, "button_value"),
    (TURN | {"contact": {"email": f"dana{NUL}@example.com"}}, "contact.email"),
    (TURN | {"contact": {"name": f"Dana{NUL}"}}, "contact.name"),
    (TURN | {"contact": {"phone": f"+972{NUL}"}}, "contact.phone"),
    (TURN | {"conversation_id": f"cw{NUL}"}, "conversation_id"),
    (TURN | {"message_id": f"1{NUL}"}, "message_id"),
    (TURN | {"attachments": [{"url": f"https://cdn{NUL}.example.com/jar.jpg", "content_type": "image/jpeg"}]},
     "attachments.0.url"),
    (TURN | {"attachments": [{"url": "https://cdn.example.com/jar.jpg", "content_type": f"image/jpeg{NUL}"}]},
     "attachments.0.content_type"),
])
async def test_a_nul_character_in_any_field_of_a_turn_is_a_typed_error_naming_it(api: httpx.AsyncClient, body: dict,
                                                                                 field: str) -> None:
    response = await api.post(TURNS_PATH, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_argument" and response.json()["field"] == field


CORRECTION = {"conversation_id": "cw-1", "draft": "Your box ships on June 3.", "sent_text": "It ships June 4.",
              "staff": "noa.levi"}


@pytest.mark.parametrize("field", ["conversation_id", "draft", "sent_text", "staff"])
async def test_a_nul_character_in_a_correction_is_a_typed_error_naming_the_field(api: httpx.AsyncClient,
                                                                                field: str) -> None:
    response = await api.post(CORRECTIONS_PATH, json=CORRECTION | {field: CORRECTION[field] + NUL})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_argument" and response.json()["field"] == field


async def _raw(api: httpx.AsyncClient, head: str, *body: bytes) -> tuple[int, dict]:
    """One request written on a socket (a body that never ends, a length that is never sent) and its answer."""
    reader, writer = await asyncio.open_connection(api.base_url.host, api.base_url.port)
    try:
        writer.write(f"POST {TURNS_PATH} HTTP/1.1\r\nHost: {api.base_url.netloc.decode()}\r\nAuthorization: "
                     f"Bearer {SERVICE_TOKEN}\r\nContent-Type: application/json\r\n{head}\r\n".encode())
        for part in body:
            writer.write(part)
        await writer.drain()
        status = int((await asyncio.wait_for(reader.readline(), 10)).split()[1])
        headers = {}
        while (line := await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, json.loads(await reader.readexactly(int(headers["content-length"])))
    finally:
        writer.close()


async def test_a_body_over_the_limit_is_refused_before_it_is_read(api: httpx.AsyncClient) -> None:
    # A declared 300 MB: refused at once, though not a byte of it comes.
    status, error = await _raw(api, "Content-Length: 300000000\r\n")
    assert status == 413 and error == {"code": "invalid_argument",
                                       "message": f"the request is larger than {MAX_BODY_BYTES} bytes"}
    # A chunked body that never ends: refused as soon as it passes the limit.
    chunk = b" " * 16384
    status, error = await _raw(api, "Transfer-Encoding: chunked\r\n",
                               *[b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (MAX_BODY_BYTES // len(chunk) + 1))
    assert status == 413 and error["code"] == "invalid_argument"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield chunk

    sent = await api.post(TURNS_PATH, content=chunks())  # and an ordinary client reads the same answer
    assert sent.status_code == 413 and sent.json()["code"] == "invalid_argument"
    assert (await api.get("/healthz")).json() == {"status": "ok"}


async def test_a_wrong_method_or_path_is_a_typed_error(api: httpx.AsyncClient) -> None:
    wrong_method = await api.get(TURNS_PATH)
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    assert wrong_method.json() == {"code": "invalid_argument", "message": f"GET is not allowed on {TURNS_PATH}; "
                                                                          "use POST"}
    no_path = await api.post("/v1/turn", json=TURN)
    assert no_path.status_code == 404 and no_path.json()["code"] == "not_found"
    assert f"POST {TURNS_PATH}" in no_path.json()["message"]


async def test_a_message_id_used_again_for_other_content_is_a_conflict(api: httpx.AsyncClient) -> None:
    body = {"conversation_id": "cw-78", "message_id": "601", "text": "where is my box?"}
    first = await api.post(TURNS_PATH, json=body)
    assert first.status_code == 200 and first.json()["replayed"] is False
    other = await api.post(TURNS_PATH, json=body | {"text": "cancel my subscription"})
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict" and other.json()["field"] == "message_id"
    again = await api.post(TURNS_PATH, json=body)  # the same message again is still a retry
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["reply"] == first.json()["reply"]


async def test_an_unforeseen_failure_is_a_typed_500_not_plain_text() -> None:
    class Broken:
        async def run(self, _: object) -> None:
            raise RuntimeError("a bug")

    @contextlib.asynccontextmanager
    async def broken() -> AsyncIterator[Broken]:
        yield Broken()

    async with serve_on_loopback(create_app(broken, SERVICE_TOKEN)) as base:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}) as client:
            response = await client.post(TURNS_PATH, json=TURN)
    assert response.status_code == 500 and response.json()["code"] == "unavailable"
