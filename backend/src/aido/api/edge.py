"""The security headers, the body size limit and CORS, in one ASGI wrapper.

They were three wrappers (security headers outermost, then the limit, then Starlette's
CORSMiddleware), each with its own send function called on every message; one costs a third
(bench/README.md, issue 15). What each answer carries is unchanged:

- **Security headers** (core/security_headers.py) on every response, the 413 and CORS
  preflight answers included (the 500 that Starlette sends outside every middleware adds them
  itself, api/errors.py).
- **Body limit**: a body over MAX_BODY_BYTES is refused with 413 before anything parses it,
  whether it declares its length or is chunked. The 413 is answered outside CORS, as before.
- **CORS**: Starlette's CORSMiddleware decides, with FRONTEND_URL the only allowed origin: its
  preflight answers and its headers on a request with an `Origin`. A request without one only
  gets `Vary: Origin`, added here directly when the answer has no `Vary` of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aido.core.metrics import count_refusal
from aido.core.security_headers import SECURITY_HEADERS

_SECURITY = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS]
_VARY = b"vary"
_VARY_ORIGIN = (_VARY, b"Origin")


class BodyTooLarge(Exception):
    pass


class HttpEdge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        allow_origins: Sequence[str],
        allow_methods: Sequence[str],
        allow_headers: Sequence[str],
        expose_headers: Sequence[str],
        allow_credentials: bool,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.too_large = orjson.dumps(
            {"detail": f"Request body is larger than the limit of {max_bytes} bytes."}
        )
        # Starlette's CORS policy and answers, called from here rather than as a wrapper.
        self.cors = CORSMiddleware(
            app, allow_origins=allow_origins, allow_methods=allow_methods,
            allow_headers=allow_headers, expose_headers=expose_headers,
            allow_credentials=allow_credentials,
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = origin = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                if length is None:
                    length = value
            elif name == b"origin" and origin is None:
                origin = value

        async def secure_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *_SECURITY]
            await send(message)

        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._reject(secure_send)
            return
        request_headers = None if origin is None else Headers(scope=scope)
        if (
            request_headers is not None
            and scope["method"] == "OPTIONS"
            and "access-control-request-method" in request_headers
        ):
            preflight = self.cors.preflight_response(request_headers=request_headers)
            await preflight(scope, receive, secure_send)
            return

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
                        await self._reject(secure_send)
                    raise BodyTooLarge
            return message

        async def edge_send(message: Message) -> None:
            if rejected:  # whatever the app answers after the 413 is dropped
                return
            if message["type"] != "http.response.start":
                await send(message)
            elif request_headers is not None:
                await self.cors.send(message, secure_send, request_headers)
            else:
                headers = message.setdefault("headers", [])
                if any(name == _VARY for name, _ in headers):
                    await self.cors.send(message, secure_send, Headers(scope=scope))
                    return
                # What CORSMiddleware adds to an answer without Vary, for a request without
                # an Origin.
                message["headers"] = [*headers, _VARY_ORIGIN, *_SECURITY]
                await send(message)

        try:
            await self.app(scope, limited_receive, edge_send)
        except BodyTooLarge:
            if not rejected:
                await self._reject(secure_send)

    async def _reject(self, send: Send) -> None:
        count_refusal("body_too_large")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self.too_large)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": self.too_large})
