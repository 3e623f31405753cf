"""uvicorn's httptools protocol with the bounds it lacks: `python -m aido` serves with it.

uvicorn 0.54 (read in its source, `protocols/http/httptools_impl.py`) arms one timer, the
keep-alive timeout, and only after a response: a connection that sends nothing, or half a
request line, or headers one byte at a time, or a body shorter than its Content-Length, is
kept forever; httptools has no size limit, so a header of any size is buffered whole. This
subclass adds, per connection:

- a head deadline: the request line and headers must be complete within
  HTTP_HEADER_TIMEOUT of the moment the server is ready for them (the connection opened, or
  the previous response ended); otherwise 408 (or a silent close if nothing was sent);
- a body deadline: the body must be complete within HTTP_BODY_TIMEOUT of its headers;
  otherwise 408 when no answer was started, else the connection is closed;
- a size bound: request line plus headers over HTTP_MAX_HEADER_BYTES get 431, checked as
  the bytes arrive, so memory stays at the bound plus one read, whatever is sent.

Error answers are JSON `{"detail": …}` with `Connection: close` and the security headers;
after one the connection reads and discards what the client is still sending (up to
LINGER_SECONDS), so the client sees the answer instead of a reset.
"""

from __future__ import annotations

import asyncio
import functools
import http
from dataclasses import dataclass
from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from aido.core.config import get_settings
from aido.core.metrics import count_refusal
from aido.core.security_headers import SECURITY_HEADERS

# After an error answer: how long to drain what the client still sends before closing.
LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float
    body_timeout: float
    max_header_bytes: int


@functools.cache
def connection_limits() -> ConnectionLimits:
    # Read in each worker process (uvicorn spawns them): the same environment, once.
    settings = get_settings()
    return ConnectionLimits(
        header_timeout=settings.HTTP_HEADER_TIMEOUT,
        body_timeout=settings.HTTP_BODY_TIMEOUT,
        max_header_bytes=settings.HTTP_MAX_HEADER_BYTES,
    )


_EXTRA_HEADERS = b"".join(
    name.lower().encode() + b": " + value.encode() + b"\r\n" for name, value in SECURITY_HEADERS
)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = connection_limits()
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None
        self._reading_head = True  # waiting for (the rest of) a request line and headers
        self._head_bytes = 0  # bytes received while reading the current head
        self._discarding = False  # an error was answered: input is drained, not parsed

    # connection ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._head_timer, self._body_timer, self._linger_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = self._linger_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        super().data_received(data)
        if self._reading_head and not self._discarding and self.parser is not None:
            # Counted after parsing: a chunk that completed the head is measured exactly in
            # on_headers_complete instead. (A chunk that also ended a pipelined body counts
            # whole: the bound is then approximate by at most one read.)
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes:
                self._reject_oversized_head()

    def eof_received(self) -> None:
        if self._discarding:
            self.transport.close()  # the client finished sending: our answer went first

    # parser callbacks ---------------------------------------------------------------------
    def on_headers_complete(self) -> None:
        if self._discarding:
            return  # a pipelined request after an error answer: never served
        self._cancel_head_timer()
        self._reading_head = False
        self._head_bytes = 0
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_bytes:
            self._reject_oversized_head()
            return
        if self._expects_body():
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_timed_out)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._discarding:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._discarding:
            return
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._reading_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # uvicorn armed its keep-alive timer: the connection now waits for the next request.
        if self.timeout_keep_alive_task is not None:
            self._arm_head_timer()

    def send_400_response(self, msg: str) -> None:
        self._answer_and_close(400, "The request is not valid HTTP.")

    # timers -------------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_bytes == 0:
            self.transport.close()  # idle: nothing to answer (clients reopen silently)
            return
        count_refusal("header_timeout")
        self._answer_and_close(
            408,
            f"The request headers did not arrive within {self.limits.header_timeout:g} s.",
        )

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_started:
            self.transport.close()  # an answer is under way: it cannot become a 408
            return
        count_refusal("body_timeout")
        self._answer_and_close(
            408, f"The request body did not arrive within {self.limits.body_timeout:g} s."
        )

    # answers ------------------------------------------------------------------------------
    def _expects_body(self) -> bool:
        for name, value in self.headers:
            if name == b"content-length":
                return value.strip() not in (b"0", b"")
            if name == b"transfer-encoding":
                return True
        return False

    def _reject_oversized_head(self) -> None:
        count_refusal("header_too_large")
        self._answer_and_close(
            431,
            "The request line and headers are larger than the limit of "
            f"{self.limits.max_header_bytes} bytes.",
        )

    def _answer_and_close(self, status: int, detail: str) -> None:
        """Answer `status` now, then drain the client's input until it stops or
        LINGER_SECONDS pass: closing with unread input would send a reset that can destroy
        the answer before the client reads it."""
        if self._discarding or self.transport.is_closing():
            return
        self._discarding = True
        self._cancel_head_timer()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app, if it is waiting for the body, sees a disconnect; whatever it sends
            # afterwards is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
        body = orjson.dumps({"detail": detail})
        head = [b"HTTP/1.1 %d %s\r\n" % (status, http.HTTPStatus(status).phrase.encode())]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(
            b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n"
            % len(body)
        )
        head.append(_EXTRA_HEADERS + b"\r\n")
        self.transport.write(b"".join(head) + body)
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
