"""The edge wrapper (aido/api/edge.py) on an answer that carries its own `Vary`, which no route
of the API sends: CORS merges `Origin` into it, as Starlette's CORSMiddleware does.
The API's own answers are covered through HTTP (test_cors.py, test_response_hygiene.py,
security/test_input.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from aido.api.edge import HttpEdge
from aido.core.security_headers import SECURITY_HEADERS

FRONTEND = "https://app.aido.test"


async def _varies_by_accept(scope: dict[str, Any], receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"text/plain"), (b"vary", b"Accept")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def _answer_headers(request_headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    edge = HttpEdge(
        _varies_by_accept, max_bytes=100, allow_origins=[FRONTEND], allow_methods=["GET"],
        allow_headers=[], expose_headers=["Retry-After"], allow_credentials=True,
    )  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": request_headers}
    asyncio.run(edge(scope, receive, send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    return list(sent[0]["headers"])


SECURITY = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS]


def test_an_answers_own_vary_gets_origin_added_without_an_origin() -> None:
    assert _answer_headers([]) == [
        (b"content-type", b"text/plain"), (b"vary", b"Accept, Origin"), *SECURITY
    ]  # fmt: skip


def test_an_answers_own_vary_gets_origin_added_for_the_frontend() -> None:
    assert _answer_headers([(b"origin", FRONTEND.encode())]) == [
        (b"content-type", b"text/plain"), (b"vary", b"Accept, Origin"),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers", b"Retry-After"),
        (b"access-control-allow-origin", FRONTEND.encode()), *SECURITY,
    ]  # fmt: skip
