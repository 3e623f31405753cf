"""Every endpoint that acts on one task, for the tests that must hold on each of them."""

from __future__ import annotations

import httpx

# (method, path template, JSON body); DELETE last, so the others meet the task if it stays.
ON_A_TASK = [
    ("GET", "/tasks/{id}", None),
    ("PATCH", "/tasks/{id}", {"title": "taken over"}),
    ("POST", "/tasks/{id}/complete", None),
    ("POST", "/tasks/{id}/reopen", None),
    ("DELETE", "/tasks/{id}", None),
]


def on_a_task(
    client: httpx.Client, task_id: object, headers: dict[str, str]
) -> list[httpx.Response]:
    """One request per entry of ON_A_TASK on `task_id`, in that order."""
    return [
        client.request(method, path.format(id=task_id), json=body, headers=headers)
        for method, path, body in ON_A_TASK
    ]
