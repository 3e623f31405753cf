"""Refuse request bodies over MAX_BODY_BYTES with 413 before anything parses them."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aido.core.metrics import count_refusal


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body = orjson.dumps(
            {"detail": f"Request body is larger than the limit of {max_bytes} bytes."}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await self._reject(send)
                    return
                break
        # Chunked bodies carry no length: count what arrives.
        received = 0
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer 413 now: FastAPI catches any exception raised while it reads a
                    # body and answers 400 "error parsing the body" instead, so BodyTooLarge
                    # would not reach the handler below for its own body parsing
                    # (tests/security/test_input.py::test_body_over_the_limit_is_413).
                    if not rejected:
                        rejected = True
                        await self._reject(send)
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if not rejected:  # whatever the app answers after the 413 is dropped
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not rejected:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        count_refusal("body_too_large")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self.body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": self.body})
