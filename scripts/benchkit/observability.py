"""What an operator turns on, priced on the list case (bench/README.md, "Observability").

Each variant runs on a server of its own, started as the main one (same database, workers,
pool and JWT secret) with its settings added: /metrics on, then /metrics with the JSON access
log, as the image ships. The main server's list case (both off) is the run's baseline. After
each case the variant's /metrics must count the requests it served: the case measured what
it says.
"""

from __future__ import annotations

import secrets
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from benchkit.result import CaseResult

LIST_CASE = "GET /tasks first page (50)"
METRICS_TOKEN = secrets.token_urlsafe(32)
_METRICS = {"METRICS_TOKEN": METRICS_TOKEN}
VARIANTS: dict[str, dict[str, str]] = {
    f"{LIST_CASE}, /metrics on": _METRICS,
    f"{LIST_CASE}, /metrics + JSON access log": {
        **_METRICS, "ACCESS_LOG": "true", "LOG_FORMAT": "json", "LOG_LEVEL": "info",
    },
}  # fmt: skip


def list_requests_counted(url: str) -> float:
    request = urllib.request.Request(
        url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "aido_http_request_duration_seconds_count"
        and sample.labels == {"method": "GET", "route": "/tasks", "status": "200"}
    )


def check_counted(url: str, result: CaseResult) -> None:
    counted = list_requests_counted(url)
    if counted < result.requests:
        raise RuntimeError(f"{result.name}: /metrics counts {counted:.0f} list requests, "
                           f"the case sent {result.requests}")  # fmt: skip
