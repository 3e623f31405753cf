"""A small Neon API v2 client on the standard library: bearer auth, timeouts, bounded retries.

423 (project busy with operations), 429 (rate limit) and 503 are always safe to retry, so they
are retried for every method with exponential backoff and full jitter, honouring Retry-After.
Other 5xx answers and network failures are retried only for GET, where a repeat cannot create
a second project. Every other 4xx is final.
"""

from __future__ import annotations

import email.utils
import json
import random
import socket
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

from .config import Settings
from .errors import (
    AuthError,
    NeonError,
    NetworkError,
    NotFoundError,
    OrgRequiredError,
    RateLimitedError,
    UnavailableError,
)

ALWAYS_RETRY = {423, 429, 503}
GET_RETRY = {500, 502, 504}
USER_AGENT = "aido-todo-scripts-neon/1"


def say(message: str) -> None:
    print(f"neon: {message}", file=sys.stderr, flush=True)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_message(body: bytes) -> tuple[str, str]:
    """(message, request_id) from Neon's {"code", "message", "request_id"} body."""
    try:
        data = json.loads(body)
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("message") or ""), str(data.get("request_id") or "")


class Client:
    def __init__(self, settings: Settings, key: str) -> None:
        self.settings = settings
        self._key = key
        # Sent with the calls that take one (list and create projects); None lets Neon infer
        # it, as it does for organization API keys.
        self.org_id = settings.org_id

    def get(self, path: str, **query: Any) -> dict[str, Any]:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, body=body)

    def delete(self, path: str) -> dict[str, Any]:
        return self.request("DELETE", path)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = self.settings.api_base + path
        params = {k: _param(v) for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = json.dumps(body).encode() if body is not None else None
        attempts = self.settings.max_retries + 1
        for attempt in range(attempts):
            request_id = str(uuid.uuid4())
            req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - https or test loopback
            req.add_header("Authorization", f"Bearer {self._key}")
            req.add_header("Accept", "application/json")
            req.add_header("User-Agent", USER_AGENT)
            req.add_header("X-Request-ID", request_id)
            if data is not None:
                req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=self.settings.timeout) as resp:  # noqa: S310
                    raw = resp.read()
                return json.loads(raw) if raw else {}
            except urllib.error.HTTPError as exc:
                status = exc.code
                raw = exc.read() if exc.fp is not None else b""
                message, rid = _error_message(raw)
                retryable = status in ALWAYS_RETRY or (method == "GET" and status in GET_RETRY)
                if not retryable or attempt == attempts - 1:
                    raise _http_error(
                        method, path, status, message, rid or request_id, attempt
                    ) from None
                hint = _retry_after(exc.headers.get("Retry-After"))
                self._backoff(attempt, hint, f"HTTP {status} on {method} {path}", status)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = _network_reason(exc)
                if reason is None:  # a ValueError from json: the body was not JSON
                    raise NeonError(
                        f"Neon API {method} {path} answered with a non-JSON body"
                    ) from None
                # A refused connection sent nothing, so even a POST may be repeated.
                refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
                if (method != "GET" and not refused) or attempt == attempts - 1:
                    raise NetworkError(
                        f"cannot reach the Neon API at {self.settings.api_base} ({reason}); check "
                        "the network, proxy and NEON_API_BASE"
                    ) from None
                self._backoff(attempt, None, f"{reason} on {method} {path}", None)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _backoff(self, attempt: int, hint: float | None, what: str, status: int | None) -> None:
        s = self.settings
        delay = random.uniform(0, min(s.retry_cap, s.retry_base * 2**attempt))  # noqa: S311
        if hint is not None:
            if hint > s.retry_cap:
                # Waiting longer than we promised is worse than stopping with a clear message.
                cls = RateLimitedError if status == 429 else UnavailableError
                raise cls(
                    f"Neon asks to wait {hint:.0f}s before retrying ({what}); that is past "
                    f"NEON_RETRY_CAP={s.retry_cap:g}s: try again later"
                )
            delay = max(delay, hint)
        say(f"{what}; retry {attempt + 1}/{s.max_retries} in {delay:.1f}s")
        time.sleep(delay)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _network_reason(exc: BaseException) -> str | None:
    reason: Any = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return "host name does not resolve"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason.reason or 'handshake failed'}"
    if isinstance(reason, OSError):
        return reason.strerror or type(reason).__name__
    if isinstance(exc, ValueError):
        return None
    return str(reason)


def _http_error(
    method: str, path: str, status: int, message: str, request_id: str, retries: int
) -> NeonError:
    detail = f": {message}" if message else ""
    rid = f" (request id {request_id})"
    if status in (401, 403):
        return AuthError(
            f"Neon rejected the API key (HTTP {status}){detail}; create a key at "
            "https://console.neon.tech/app/settings/api-keys and set NEON_API_KEY"
        )
    if status == 404:
        return NotFoundError(
            f"not found (HTTP 404 on {method} {path}){detail}; check --project-id or "
            "NEON_PROJECT_ID (`scripts/neon projects` lists what the key can see)"
        )
    if status == 400 and "org_id is required" in message:
        # A personal API key listing or creating projects (resources.with_organization).
        return OrgRequiredError(f"Neon needs an organization (HTTP 400{detail}){rid}")
    if status == 429:
        return RateLimitedError(
            f"Neon rate limit (HTTP 429) still hit after {retries} retries{rid}; wait a "
            "minute and run again"
        )
    if status == 423:
        return UnavailableError(
            f"the project is busy with running operations (HTTP 423) after {retries} retries"
            f"{detail}{rid}; wait a little and run again"
        )
    if status >= 500:
        return UnavailableError(
            f"Neon API unavailable (HTTP {status} on {method} {path}) after {retries} retries"
            f"{detail}{rid}; check https://neonstatus.com and run again"
        )
    return NeonError(f"Neon API {method} {path} answered HTTP {status}{detail}{rid}")
