"""A fast path for the busiest routes: their input read without FastAPI's parameter machinery.

FastAPI solves a route's parameters generically on every request (a recursive dependency
solve, four passes over parameter kinds, the body through `json` then `validate_python`),
which cost the task routes more CPU than their query (bench/README.md, issue 15). A route
marked `@fast_path(reader)` is first served by `reader(request)`, which reads the same inputs
directly (the body with pydantic's JSON parser) and calls the route's own endpoint. Whenever it
meets input it does not accept as is, it raises `SlowPath`, and FastAPI's own handler serves the
request from the start: every refusal (422, 400, and their order with the token's 401) is then
FastAPI's, byte for byte, and OpenAPI is built from the endpoint's signature as before.

A reader must accept only what FastAPI would accept, to the same values, and must check the
token where FastAPI would (tests/api/test_task_input_answers.py pins the answers;
tests/api/test_fast_path.py compares the parsers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.types import Message, Receive

Reader = Callable[[Request], Awaitable[Response]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
Model = TypeVar("Model", bound=BaseModel)

_READER = "_aido_fast_path"


class SlowPath(Exception):
    """The fast path does not settle this request: FastAPI's handler serves it instead."""

    def __init__(self, unreadable: Exception | None = None) -> None:
        super().__init__()
        self.unreadable = unreadable  # why the body could not be read, if that was the cause


def fast_path(reader: Reader) -> Callable[[Endpoint], Endpoint]:
    """Serve the decorated endpoint's route through `reader` first (routers made with
    `route_class=FastPathRoute`)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _READER, reader)
        return endpoint

    return mark


class FastPathRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        fastapi_handler = super().get_route_handler()
        reader: Reader | None = getattr(self.endpoint, _READER, None)
        if reader is None:
            return fastapi_handler

        async def handler(request: Request) -> Response:
            try:
                return await reader(request)
            except SlowPath as slow:
                if slow.unreadable is not None:
                    # FastAPI meets the same failure reading the body, and answers it its way.
                    request = Request(request.scope, _raise(slow.unreadable))
                return await fastapi_handler(request)

        return handler


def _raise(error: Exception) -> Receive:
    async def receive() -> Message:
        raise error

    return receive


def is_json(request: Request) -> bool:
    """True for a `Content-Type` FastAPI reads as JSON, in its plainest spelling only
    (`application/json`, any parameters): other spellings take the slow path."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        return False
    # As email.message parses it for FastAPI: the part before ";", stripped, in any case.
    return content_type.partition(";")[0].strip().lower() == "application/json"


async def json_body(request: Request, model: type[Model]) -> Model:
    """The body as `model`, by pydantic's JSON parser; SlowPath for anything else.

    pydantic's parser accepts a subset of what FastAPI's (`json.loads`, then `validate_python`)
    accepts, to the same values: no BOM, no UTF-16, no lone surrogates."""
    if not is_json(request):
        raise SlowPath
    try:
        body = await request.body()
    except Exception as error:  # a client gone, the size limit's 413 sent: FastAPI answers
        raise SlowPath(unreadable=error) from None
    try:
        return model.model_validate_json(body)
    except ValidationError:
        raise SlowPath from None
