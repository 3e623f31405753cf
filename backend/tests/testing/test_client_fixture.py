"""The suite's one `client`: the server process by default, the app in this process for a test
marked `in_process`; both on the suite's database."""

from __future__ import annotations

import httpx
import pytest

from tests.support.database import query
from tests.support.server import Server
from tests.support.users import PASSWORD, unique_email


def sign_up(client: httpx.Client) -> str:
    email = unique_email()
    response = client.post("/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return email


def test_an_unmarked_test_talks_to_the_server_process(
    client: httpx.Client, live_server: Server, database_url: str
) -> None:
    assert str(client.base_url) == live_server.url
    email = sign_up(client)
    assert query(database_url, 'SELECT 1 FROM "user" WHERE email = %s', email) == [(1,)]


@pytest.mark.in_process
def test_a_test_marked_in_process_is_served_in_this_process(
    client: httpx.Client, database_url: str
) -> None:
    assert str(client.base_url) == "http://testserver"
    email = sign_up(client)
    assert query(database_url, 'SELECT 1 FROM "user" WHERE email = %s', email) == [(1,)]
    assert client.get("/users/me").status_code == 401
