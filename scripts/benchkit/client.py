"""Plain HTTP calls made before the load: log-ins (one per user) and a check of the deep page."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchkit.progress import say


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
        status, body = call(url, "POST", "/auth/login", body={"email": email, "password": password})
        if status != 200:
            raise RuntimeError(f"log-in of {email} answered {status}")
        return email, str(body["access_token"])

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return dict(pool.map(login, emails))
