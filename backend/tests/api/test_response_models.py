"""Every route's answers match the response_model it declares in OpenAPI (the routes serialise
with orjson, so nothing else checks it): one walk through every route with a checking client."""

from __future__ import annotations

import httpx

from tests.support.response_models import ResponseModelCheck
from tests.support.server import Server
from tests.support.users import unique_email


def test_every_route_answers_with_exactly_its_response_model(live_server: Server) -> None:
    check = ResponseModelCheck.for_the_app()
    with httpx.Client(base_url=live_server.url, timeout=30, event_hooks={"response": [check]}) as c:
        email, password = unique_email(), "correct horse battery"
        assert c.get("/health").status_code == 200
        assert c.get("/health/live").status_code == 200
        assert (
            c.post("/auth/signup", json={"email": email, "password": password}).status_code == 201
        )
        login = c.post("/auth/login", json={"email": email, "password": password})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert c.get("/users/me", headers=headers).status_code == 200
        created = c.post("/tasks", json={"title": "t", "description": "d"}, headers=headers)
        task = f"/tasks/{created.json()['id']}"
        for n in range(3):
            c.post("/tasks", json={"title": f"more {n}"}, headers=headers)
        page = c.get("/tasks", params={"limit": 2}, headers=headers).json()
        assert page["next_cursor"]
        c.get("/tasks", params={"limit": 2, "cursor": page["next_cursor"]}, headers=headers)
        c.get("/tasks", params={"q": "more", "sort": "title", "order": "asc"}, headers=headers)
        assert c.get(task, headers=headers).status_code == 200
        assert c.patch(task, json={"description": None}, headers=headers).status_code == 200
        assert c.post(f"{task}/complete", headers=headers).status_code == 200
        assert c.post(f"{task}/reopen", headers=headers).status_code == 200
        assert c.delete(task, headers=headers).status_code == 204
        assert c.get(task, headers=headers).status_code == 404  # an error body: {"detail"}
        change = {"current_password": password, "new_password": "another long one"}
        renewed = c.post("/users/me/password", json=change, headers=headers)
        headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
        assert c.post("/auth/logout-all", headers=headers).status_code == 204
        assert c.get("/users/me", headers=headers).status_code == 401
    declared = {
        (method, route.path)
        for route in check.routes
        if route.response_model is not None and route.include_in_schema
        for method in route.methods
    }
    assert declared - check.seen == set(), "routes whose answers were never checked"
