"""Neon's published OpenAPI document as the contract of scripts/neon and of its emulator.

The document comes from `@neondatabase/api-client` at a pinned version and sha512, fetched
with npm and cached outside the repository (tests/support/neon_emulator_contract.py). Every
emulator test checks every request and answer against it (the `emulator` fixture); these
tests check the checker, and that every call scripts/neon makes went through it.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.conftest import REPO, Neon
from tests.support import neon_emulator_contract as nc
from tests.support.neon_emulator import NeonEmulator

AUTH = {"Authorization": "Bearer k", "Content-Type": "application/json"}

# Every operation of the document scripts/neon uses, by the document's operationId.
OPERATIONS_SCRIPTS_NEON_CALLS = {
    "listProjects",
    "createProject",
    "getProject",
    "deleteProject",
    "getConnectionURI",
    "listProjectBranches",
    "createProjectBranch",
    "deleteProjectBranch",
    "restoreProjectBranch",
    "listProjectBranchDatabases",
    "listProjectBranchRoles",
    "listProjectEndpoints",
    "listProjectOperations",
    "getProjectOperation",
    "getCurrentUserOrganizations",
}


def test_the_document_is_the_pinned_package_cached_outside_the_repo() -> None:
    data = nc.tarball()
    assert nc._integrity_of(data) == nc.INTEGRITY
    cached = nc.cache_dir() / f"neondatabase-api-client-{nc.VERSION}.tgz"
    assert cached.is_file() or nc.os.environ.get("AIDO_NEON_API_CLIENT_TGZ")
    assert REPO not in cached.resolve().parents  # never inside the checkout
    doc = nc.document()
    assert doc["openapi"].startswith("3.0") and doc["info"]["title"] == "Neon API"
    ids = {op.id for op in nc.contract()._operations}
    assert ids >= OPERATIONS_SCRIPTS_NEON_CALLS


def test_a_tarball_that_fails_its_checksum_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forged = io.BytesIO()
    with tarfile.open(fileobj=forged, mode="w:gz") as archive:
        text = b"openapi: 3.0.3\npaths: {}\n"
        info = tarfile.TarInfo(nc.DOCUMENT)
        info.size = len(text)
        archive.addfile(info, io.BytesIO(text))
    path = tmp_path / "api-client.tgz"
    path.write_bytes(forged.getvalue())
    monkeypatch.setenv("AIDO_NEON_API_CLIENT_TGZ", str(path))
    with pytest.raises(nc.ContractUnavailable, match="sha512"):
        nc.tarball()
    assert gzip.decompress(path.read_bytes())  # a real tarball: only the checksum tells


def project_answer(emulator: NeonEmulator) -> dict[str, Any]:
    _, created = emulator.handle("POST", "/projects", {}, {"project": {"name": "shape"}})
    return {"project": created["project"]}


def test_fields_the_document_does_not_define_are_flagged(emulator: NeonEmulator) -> None:
    contract = emulator.contract
    answer = project_answer(emulator)
    pid = answer["project"]["id"]
    assert contract.check_response("GET", f"/projects/{pid}", {}, AUTH, 200, answer) == []

    # What the old emulator sent and scripts/neon read: none of it is Neon's.
    answer["project"]["default_branch_id"] = "br-x"
    assert contract.check_response("GET", f"/projects/{pid}", {}, AUTH, 200, answer) == [
        f"answer 200 to GET /projects/{pid} (getProject): "
        "body.project.default_branch_id is not defined by the document"
    ]
    listing = {"projects": [], "applications": {}, "integrations": {},
               "pagination": {"cursor": "c", "next": "n"}}  # fmt: skip
    problems = contract.check_response("GET", "/projects", {}, AUTH, 200, listing)
    assert problems == [
        "answer 200 to GET /projects (listProjects): body.pagination.next is not defined by "
        "the document"
    ]
    branches = {"branches": [], "annotations": {}, "pagination": {"cursor": "c"}}
    problems = contract.check_response("GET", f"/projects/{pid}/branches", {}, AUTH, 200, branches)
    assert problems == [
        f"answer 200 to GET /projects/{pid}/branches (listProjectBranches): "
        "body.pagination.cursor is not defined by the document"
    ]
    # A required field missing, or a wrong type, is openapi-core's finding.
    del listing["applications"]
    assert "'applications' is a required property" in " ".join(
        contract.check_response("GET", "/projects", {}, AUTH, 200, listing)
    )


def test_requests_outside_the_document_are_flagged(emulator: NeonEmulator) -> None:
    contract = emulator.contract
    ok = contract.check_request("GET", "/projects", {"limit": ["100"]}, AUTH, b"")
    assert ok == []
    assert contract.check_request("GET", "/projects", {"page": ["2"]}, AUTH, b"") == [
        "request GET /projects: query parameter 'page' is not in listProjects"
    ]
    too_many = contract.check_request("GET", "/projects", {"limit": ["1000"]}, AUTH, b"")
    assert "1000 is greater than the maximum of 400" in " ".join(too_many)
    body = b'{"project": {"name": "x", "default_branch": "main"}}'
    assert contract.check_request("POST", "/projects", {}, AUTH, body) == [
        "request POST /projects (createProject): body.project.default_branch is not defined by "
        "the document"
    ]
    no_key = contract.check_request("GET", "/projects", {}, {}, b"")
    assert no_key and "Security" in no_key[0]
    assert contract.check_request("GET", "/projects/p-1/nowhere", {}, AUTH, b"") == [
        "request GET /projects/p-1/nowhere: the document has no such operation"
    ]


def test_every_call_scripts_neon_makes_is_checked(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.require_org = True
    emulator.add_organization("Only")
    assert neon("provision").code == 0
    project = next(iter(emulator.projects.values()))
    role = next(iter(project.passwords))
    for args in (
        ["projects"],
        ["describe", "--project-id", project.id],
        ["connection-string", "--direct", "--role", role],
        ["env"],
        ["branch", "create", "dev", "--expires-in", "1h"],
        ["branch", "list"],
        ["branch", "reset", "dev"],
        ["psql", "--branch", "dev", "--", "-AtX", "-c", "SELECT 1"],
        ["branch", "delete", "dev"],
        ["delete", "--yes", "--name", "aido-todo"],
    ):
        result = neon(*args)
        assert result.code == 0, (args, result.stderr)
    seen = set()
    for request in emulator.requests:
        path = request["path"].removeprefix("/api/v2")
        operation = emulator.contract.operation(request["method"], path)
        assert operation is not None, request
        seen.add(operation.id)
    assert seen == OPERATIONS_SCRIPTS_NEON_CALLS
    # …and the `emulator` fixture fails this test if any of them broke the document.
