"""The fast path (aido/api/fast_path.py): what it accepts, FastAPI accepts to the same value;
what it does not, FastAPI's own handler answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from aido.api.fast_path import FastPathRoute, fast_path, json_body
from aido.models.task import TaskCreate, TaskUpdate

MODELS: tuple[type[BaseModel], ...] = (TaskCreate, TaskUpdate)
KEYS = st.sampled_from(["title", "description", "completed", "cls", "id"])
TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from(["\x00", "\ud800", " ", "\t", "\u2028"]),
    max_size=8,
) | st.sampled_from(["x" * 200, "x" * 201, "d" * 2001, " x ", "true", "yes", "0"])
SCALARS = (st.none() | st.booleans() | st.integers(-2, 2) | st.floats(allow_nan=True)
           | st.sampled_from([1.0, 0.0, 10**400]) | TEXT)  # fmt: skip
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=2), max_leaves=3)


def _fastapi_reads(model: type[BaseModel], body: bytes) -> BaseModel | None:
    """What FastAPI makes of a JSON body: `json.loads`, then pydantic on the Python value."""
    try:
        value = json.loads(body)
        return TypeAdapter(model).validate_python(value, from_attributes=True)
    except (ValueError, ValidationError):
        return None


def _fast_reads(model: type[BaseModel], body: bytes) -> BaseModel | None:
    try:
        return model.model_validate_json(body)
    except ValidationError:
        return None


def _same_reading(body: bytes) -> None:
    for model in MODELS:
        fast = _fast_reads(model, body)
        if fast is None:
            continue  # FastAPI's handler answers it
        slow = _fastapi_reads(model, body)
        assert slow is not None, (model.__name__, body)
        assert fast.model_dump() == slow.model_dump(), (model.__name__, body)
        assert fast.model_fields_set == slow.model_fields_set, (model.__name__, body)


@settings(max_examples=400, deadline=None)
@given(
    fields=st.dictionaries(KEYS, VALUES, max_size=4),
    ensure_ascii=st.booleans(),
    padding=st.sampled_from(["", " ", "\n", "\ufeff", "x"]),
)
def test_bodies_the_fast_parser_accepts_fastapi_reads_to_the_same_task(
    fields: dict[str, Any], ensure_ascii: bool, padding: str
) -> None:
    text = json.dumps(fields, ensure_ascii=ensure_ascii)
    for body in (text, padding + text, text + padding):
        try:
            encoded = body.encode()
        except UnicodeEncodeError:  # a lone surrogate, sent as its \\u escape only
            continue
        _same_reading(encoded)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_bytes_the_fast_parser_accepts_fastapi_reads_to_the_same_task(tail: bytes) -> None:
    for prefix in (b'{"title": "', b'{"completed": ', b'{"title": "a", "description": '):
        _same_reading(prefix + tail)
        _same_reading(prefix + tail + b'"}')


@pytest.mark.parametrize(
    "body",
    [b'{"title": "a\\ud800"}', b'\xef\xbb\xbf{"title": "a"}', '{"title": "a"}'.encode("utf-16"),
     b'{"title": "a\tb"}', b'{"title": "a"} x', b'{"title": "a", "completed": NaN}',
     b'{"title": "\xed\xa0\x80"}', b'{"title": "a", "title": "b"}', b'{"title": 1e400}'],
)  # fmt: skip
def test_json_only_pythons_parser_accepts_is_left_to_fastapi(body: bytes) -> None:
    _same_reading(body)
    assert _fast_reads(TaskCreate, body) is None or b'"b"' in body


class Item(BaseModel):
    name: str


def _app() -> FastAPI:
    async def read(request: Request) -> Response:
        item = await json_body(request, Item)
        return Response(f"fast {item.name}".encode())

    router = APIRouter(route_class=FastPathRoute)

    @router.post("/items")
    @fast_path(read)
    async def create(item: Item) -> Response:
        return Response(f"slow {item.name}".encode())

    app = FastAPI()
    app.include_router(router)
    return app


def _post(app: FastAPI, content: bytes, content_type: str) -> httpx.Response:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/items", content=content,
                                     headers={"Content-Type": content_type})  # fmt: skip

    return asyncio.run(post())


def test_fast_path_serves_what_it_reads_and_fastapi_the_rest() -> None:
    app = _app()
    assert _post(app, b'{"name": "a"}', "application/json").text == "fast a"
    assert _post(app, b'{"name": "a"}', "application/json; charset=utf-8").text == "fast a"
    # Another spelling of JSON, and a body only Python's parser reads: FastAPI's handler.
    assert _post(app, b'{"name": "a"}', "application/vnd.x+json").text == "slow a"
    assert _post(app, b'\xef\xbb\xbf{"name": "a"}', "application/json").text == "slow a"
    refused = _post(app, b'{"name": 1}', "application/json")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "name"]


def test_a_body_that_cannot_be_read_is_answered_by_fastapi() -> None:
    app = _app()

    async def disconnect() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/items", "raw_path": b"/items",
             "root_path": "", "query_string": b"", "scheme": "http", "http_version": "1.1",
             "headers": [(b"content-type", b"application/json")], "server": ("test", 80),
             "client": ("test", 1), "asgi": {"version": "3.0"}}  # fmt: skip
    asyncio.run(app(scope, disconnect, send))
    # FastAPI's answer to a client that went away while sending the body.
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"]) == {"detail": "There was an error parsing the body"}
