"""/openapi.json describes every endpoint, its errors and examples; /docs is Swagger UI."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.server import Server

# (method, path) -> the error statuses it must document (beyond 422 where it takes input).
ENDPOINTS: dict[tuple[str, str], set[int]] = {
    ("get", "/health"): {503},
    ("get", "/health/live"): set(),
    ("post", "/auth/signup"): {409, 422, 429, 503},
    ("post", "/auth/login"): {401, 422, 429, 503},
    ("post", "/auth/logout-all"): {401},
    ("get", "/users/me"): {401},
    ("delete", "/users/me"): {401},
    ("post", "/users/me/password"): {401, 403, 409, 422, 429, 503},
    ("get", "/tasks"): {401, 422},
    ("post", "/tasks"): {401, 422},
    ("get", "/tasks/{task_id}"): {401, 404, 422},
    ("patch", "/tasks/{task_id}"): {401, 404, 422},
    ("delete", "/tasks/{task_id}"): {401, 404, 422},
    ("post", "/tasks/{task_id}/complete"): {401, 404, 422},
    ("post", "/tasks/{task_id}/reopen"): {401, 404, 422},
}
SUCCESS = {("post", "/auth/signup"): "201", ("post", "/tasks"): "201",
           ("delete", "/users/me"): "204", ("delete", "/tasks/{task_id}"): "204",
           ("post", "/auth/logout-all"): "204"}  # fmt: skip
PROTECTED = {k for k, v in ENDPOINTS.items() if 401 in v and k != ("post", "/auth/login")}


@pytest.fixture(scope="module")
def spec(live_server: Server) -> dict[str, Any]:
    response = httpx.get(live_server.url + "/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def test_every_endpoint_is_described_and_nothing_else(spec: dict[str, Any]) -> None:
    described = {
        (method, path)
        for path, ops in spec["paths"].items()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert described == set(ENDPOINTS)


def test_each_endpoint_documents_its_success_and_errors(spec: dict[str, Any]) -> None:
    for (method, path), statuses in ENDPOINTS.items():
        where = f"{method.upper()} {path}"
        op = spec["paths"][path][method]
        responses = op["responses"]
        assert SUCCESS.get((method, path), "200") in responses, where
        for status in statuses:
            documented = responses.get(str(status))
            assert documented, f"{where} does not document {status}"
            assert documented["description"], where
            if status != 503 or path != "/health":
                example = documented["content"]["application/json"]["example"]
                assert set(example) == {"detail"}, where
        assert op.get("summary") or op.get("description"), where


def test_protected_endpoints_declare_the_bearer_scheme(spec: dict[str, Any]) -> None:
    for method, path in PROTECTED:
        assert spec["paths"][path][method].get("security"), f"{method} {path} shows no lock"


def test_the_authorize_button_logs_in_at_auth_login(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    [scheme] = schemes.values()
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/login"


def _examples(schema_or_media: dict[str, Any], spec: dict[str, Any]) -> bool:
    if "example" in schema_or_media or "examples" in schema_or_media:
        return True
    schema = schema_or_media.get("schema", schema_or_media)
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "examples" in schema:
        return True
    props = schema.get("properties", {})
    return bool(props) and any("examples" in p or "example" in p for p in props.values())


def test_request_bodies_carry_examples(spec: dict[str, Any]) -> None:
    for method, path in [("post", "/auth/signup"), ("post", "/auth/login"), ("post", "/tasks"),
                         ("patch", "/tasks/{task_id}"),
                         ("post", "/users/me/password")]:  # fmt: skip
        body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert _examples(body, spec), f"{method.upper()} {path} has no request example"


def test_login_documents_the_json_and_the_form_body(spec: dict[str, Any]) -> None:
    content = spec["paths"]["/auth/login"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(content)


def test_list_documents_its_parameters(spec: dict[str, Any]) -> None:
    params = {p["name"]: p for p in spec["paths"]["/tasks"]["get"]["parameters"]}
    assert {"limit", "cursor", "completed", "q", "sort", "order"} <= set(params)
    limit = params["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)


def test_docs_serve_swagger_ui(live_server: Server) -> None:
    response = httpx.get(live_server.url + "/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in response.text
    assert "/openapi.json" in response.text
