"""Plain HTTP calls made before the load: log-ins (one per user) and a check of the deep page."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchkit.progress import say

RETRIES = 10


def call(url: str, method: str, path: str, *, token: str = "", body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


def login_all(url: str, emails: list[str], password: str, *, parallel: int) -> dict[str, str]:
    """email -> access token, through POST /auth/login like any client."""
    say(f"logging in {len(emails)} users through POST /auth/login…")

    def login(email: str) -> tuple[str, str]:
        for _ in range(RETRIES):
            try:
                status, body = call(url, "POST", "/auth/login",
                                    body={"email": email, "password": password})  # fmt: skip
                return email, str(body["access_token"])
            except urllib.error.HTTPError as exc:
                # 503: every Argon2 slot stayed busy; 429 cannot happen to good passwords.
                if exc.code != 503:
                    raise RuntimeError(f"log-in of {email} answered {exc.code}") from None
                time.sleep(float(exc.headers.get("Retry-After") or 1))
        raise RuntimeError(f"log-in of {email} stayed 503 after {RETRIES} tries")

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return dict(pool.map(login, emails))
