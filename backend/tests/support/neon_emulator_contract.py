"""Neon's published API contract, for checking the emulator and scripts/neon against it.

The contract is Neon's own OpenAPI document, `public-v2-for-users.gen.yaml`, as published in
the npm package `@neondatabase/api-client` at the version and checksum pinned below. The
package is fetched with npm (the registry's ordinary client) on first use, verified against
the registry's `dist.integrity` (sha512), and cached outside the repository, in
`$AIDO_CACHE_DIR` or else `${XDG_CACHE_HOME:-~/.cache}/aido/`; the tarball is verified again
every time it is read. `AIDO_NEON_API_CLIENT_TGZ` may name a copy of that tarball instead
(a machine without npm): the checksum still decides.

Two checks, both against that document:
- openapi-core validates each request (path, query parameters, body, bearer auth) and each
  answer (status and body) of the operation it belongs to;
- `undeclared_fields` flags every object key the document does not define, at any depth
  (most of Neon's schemas leave `additionalProperties` open, so the validator alone would
  let `default_branch_id` on a project, or `pagination.next` on a project listing, through).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

PACKAGE = "@neondatabase/api-client"
VERSION = "2.7.3"
# The registry's dist.integrity for that version (`npm view @neondatabase/api-client@2.7.3
# dist.integrity`): a new version is adopted by changing both lines on purpose.
INTEGRITY = "sha512-hqJmcd8qeCNjcsSNlz77peGIwB9SLj8NC6kK6AjPRyb4bUvXB+TCmffx5893/0oRHYjqpua0nBLa5ql8z6acmw=="  # noqa: E501
DOCUMENT = "package/public-v2-for-users.gen.yaml"
# The document's own server URL: request paths are matched under its /api/v2 prefix.
SERVER = "https://console.neon.tech"

Json = dict[str, Any]


class ContractUnavailable(RuntimeError):
    """The document could not be fetched or failed its checksum: one line saying what to do."""


def cache_dir() -> Path:
    if os.environ.get("AIDO_CACHE_DIR"):
        return Path(os.environ["AIDO_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aido"


def _integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _verified(data: bytes, origin: str) -> bytes:
    actual = _integrity_of(data)
    if actual != INTEGRITY:
        raise ContractUnavailable(
            f"{origin} is not {PACKAGE}@{VERSION}: its sha512 is {actual}, the pinned one "
            f"{INTEGRITY} (delete it and run again)"
        )
    return data


def _npm_pack(destination: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise ContractUnavailable(
            f"npm is not installed, and the tests need {PACKAGE}@{VERSION} (Neon's OpenAPI "
            "document): install Node.js's npm, or set AIDO_NEON_API_CLIENT_TGZ to its tarball"
        )
    print(f"neon contract: fetching {PACKAGE}@{VERSION} with npm…", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(  # noqa: S603 - fixed arguments
            [npm, "pack", f"{PACKAGE}@{VERSION}", "--json", "--pack-destination", str(destination)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ContractUnavailable(f"npm pack {PACKAGE}@{VERSION} took over 180 s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ContractUnavailable(f"npm pack {PACKAGE}@{VERSION} failed: {last}")
    filename = json.loads(proc.stdout)[0]["filename"]
    # npm names scoped tarballs `neondatabase-api-client-2.7.3.tgz`.
    return destination / Path(filename).name


def tarball() -> bytes:
    """The verified package tarball: from AIDO_NEON_API_CLIENT_TGZ, the cache, or npm."""
    given = os.environ.get("AIDO_NEON_API_CLIENT_TGZ")
    if given:
        return _verified(Path(given).read_bytes(), given)
    cached = cache_dir() / f"neondatabase-api-client-{VERSION}.tgz"
    if cached.is_file():
        return _verified(cached.read_bytes(), str(cached))
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
        packed = _npm_pack(Path(tmp))
        data = _verified(packed.read_bytes(), f"the tarball npm fetched ({packed.name})")
        os.replace(packed, cached)  # atomic: a parallel run sees the whole file or none
    return data


def _json_keys(node: Any) -> Any:
    """YAML reads `200:` as an int; OpenAPI (and openapi-core) mean the string "200"."""
    if isinstance(node, dict):
        return {str(k): _json_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_keys(v) for v in node]
    return node


@functools.cache
def document() -> Json:
    with tarfile.open(fileobj=io.BytesIO(tarball()), mode="r:gz") as archive:
        member = archive.extractfile(DOCUMENT)
        if member is None:
            raise ContractUnavailable(f"{PACKAGE}@{VERSION} has no {DOCUMENT}")
        text = member.read()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    parsed: Json = _json_keys(yaml.load(text, Loader=loader))  # noqa: S506 - a safe loader
    return parsed


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # e.g. /projects/{project_id}/branches
    spec: Json
    path_item: Json

    @property
    def id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method} {self.template}"))


class Contract:
    def __init__(self, doc: Json) -> None:
        self.doc = doc
        # The document is Neon's; checking the document itself is not this suite's job.
        self.api = OpenAPI.from_dict(doc, config=Config(spec_validator_cls=None))
        self._operations = [
            Operation(method, template, spec, item)
            for template, item in doc["paths"].items()
            for method, spec in item.items()
            if method in {"get", "post", "put", "patch", "delete"}
        ]

    # -- look-ups ----------------------------------------------------------------------------

    def resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
            seen += 1
            if seen > 50:
                raise ValueError("a $ref loop in the document")
        return schema

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation whose template matches; literal segments win over parameters."""
        parts = [p for p in path.split("/") if p]
        best: tuple[int, Operation] | None = None
        for op in self._operations:
            if op.method != method.lower():
                continue
            template = [p for p in op.template.split("/") if p]
            if len(template) != len(parts):
                continue
            literal = 0
            for want, got in zip(template, parts, strict=True):
                if want.startswith("{") and want.endswith("}"):
                    continue
                if want != got:
                    break
                literal += 1
            else:
                if best is None or literal > best[0]:
                    best = (literal, op)
        return best[1] if best else None

    def _parameters(self, op: Operation) -> list[Json]:
        params = [*op.path_item.get("parameters", []), *op.spec.get("parameters", [])]
        return [self.resolve(p) for p in params]

    def _response_schema(self, op: Operation, status: int) -> Any:
        responses = op.spec.get("responses", {})
        answer = responses.get(str(status)) or responses.get("default")
        answer = self.resolve(answer) if answer else None
        return _json_schema(answer) if answer else None

    def _request_body_schema(self, op: Operation) -> Any:
        return _json_schema(self.resolve(op.spec.get("requestBody", {})))

    # -- checks ------------------------------------------------------------------------------

    def check_request(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> list[str]:
        """Problems with one request (path relative to the API base), as readable lines."""
        where = f"request {method} {path}"
        op = self.operation(method, path)
        if op is None:
            return [f"{where}: the document has no such operation"]
        problems = []
        declared = {p["name"] for p in self._parameters(op) if p.get("in") == "query"}
        for name in query:
            if name not in declared:
                problems.append(f"{where}: query parameter {name!r} is not in {op.id}")
        request = _mock_request(method, path, query, headers, body)
        try:
            self.api.validate_request(request)
        except Exception as exc:  # noqa: BLE001 - openapi-core raises many kinds; all are findings
            problems.append(f"{where} ({op.id}): {_describe(exc)}")
        if body:
            body_schema = self._request_body_schema(op)
            if body_schema is not None:
                problems += [
                    f"{where} ({op.id}): {p}"
                    for p in self.undeclared_fields(body_schema, json.loads(body), "body")
                ]
        return problems

    def check_response(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        status: int,
        payload: Any,
    ) -> list[str]:
        where = f"answer {status} to {method} {path}"
        op = self.operation(method, path)
        if op is None:
            return [f"{where}: the document has no such operation"]
        request = _mock_request(method, path, query, headers)
        response = MockResponse(
            json.dumps(payload).encode(), status_code=status, content_type="application/json"
        )
        problems = []
        try:
            self.api.validate_response(request, response)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{where} ({op.id}): {_describe(exc)}")
        schema = self._response_schema(op, status)
        if schema is not None:
            problems += [
                f"{where} ({op.id}): {p}" for p in self.undeclared_fields(schema, payload, "body")
            ]
        return problems

    def undeclared_fields(self, schema: Any, value: Any, where: str) -> list[str]:
        """Keys of `value` (at any depth) that no branch of `schema` declares."""
        return list(self._undeclared([schema], value, where))

    def _undeclared(self, schemas: list[Any], value: Any, where: str) -> Iterable[str]:
        if isinstance(value, list):
            items = [s["items"] for s in self._flatten(schemas) if "items" in s]
            if items:
                for i, item in enumerate(value):
                    yield from self._undeclared(items, item, f"{where}[{i}]")
            return
        if not isinstance(value, dict):
            return
        flat = self._flatten(schemas)
        properties: dict[str, list[Any]] = {}
        extra: list[Any] = []
        for schema in flat:
            for name, sub in schema.get("properties", {}).items():
                properties.setdefault(name, []).append(sub)
            more = schema.get("additionalProperties")
            if more is True or more == {}:
                return  # a free-form map: any key is declared
            if isinstance(more, dict):
                extra.append(more)
        if not properties and not extra:
            return  # `type: object` with nothing said about its keys: free-form
        for key, sub_value in value.items():
            if key in properties:
                yield from self._undeclared(properties[key], sub_value, f"{where}.{key}")
            elif extra:
                yield from self._undeclared(extra, sub_value, f"{where}.{key}")
            else:
                yield f"{where}.{key} is not defined by the document"

    def _flatten(self, schemas: list[Any]) -> list[Json]:
        out: list[Json] = []
        stack = list(schemas)
        while stack:
            schema = self.resolve(stack.pop())
            if not isinstance(schema, dict):
                continue
            out.append(schema)
            for key in ("allOf", "anyOf", "oneOf"):
                stack.extend(schema.get(key, []))
        return out


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _describe(exc: BaseException) -> str:
    """openapi-core's error with the schema errors that caused it, on one line."""
    cause = exc.__cause__ or exc
    details = [str(getattr(e, "message", e)) for e in getattr(cause, "schema_errors", ())]
    text = f"{type(exc).__name__}: {cause}"
    if details:
        text = f"{type(exc).__name__}: " + "; ".join(details)
    return " ".join(text.split())[:600]


@functools.cache
def contract() -> Contract:
    return Contract(document())


def _json_schema(part: Mapping[str, Any]) -> Any:
    """The JSON schema of a resolved request body or response, if it has one."""
    return part.get("content", {}).get("application/json", {}).get("schema")


def _mock_request(
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes = b"",
) -> MockRequest:
    """The request as openapi-core reads it (path relative to the API base)."""
    return MockRequest(
        SERVER,
        method.lower(),
        "/api/v2" + path,
        args={k: v[-1] for k, v in query.items()},
        headers=dict(headers),
        data=body or None,
        content_type=_header(headers, "Content-Type") or "application/json",
    )
