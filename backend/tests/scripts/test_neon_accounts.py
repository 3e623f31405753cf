"""scripts/neon and Neon accounts: organizations, and projects Neon cannot read right now."""

from __future__ import annotations

import json

from tests.scripts.conftest import Neon
from tests.support.neon_emulator import NeonEmulator


def test_a_personal_key_with_one_organization_uses_it(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.require_org = True
    org = emulator.add_organization("Ada's team")
    made = neon("provision", "--json")
    assert made.code == 0, made.stderr
    assert f'using organization "Ada\'s team" ({org})' in made.stderr
    project = next(iter(emulator.projects.values()))
    assert project.data["org_id"] == org  # created inside it
    again = neon("provision", "--json")  # and found there again: nothing duplicated
    assert again.code == 0 and json.loads(again.stdout)["created"] is False
    assert len(emulator.projects) == 1


def test_a_personal_key_with_several_organizations_is_told_how_to_pick(
    neon: Neon, emulator: NeonEmulator
) -> None:
    emulator.require_org = True
    first = emulator.add_organization("Personal")
    second = emulator.add_organization("Work")
    refused = neon("provision")
    assert refused.code == 13
    errors = [line for line in refused.stderr.splitlines() if line.startswith("neon: error:")]
    assert len(errors) == 1
    line = errors[0]
    assert f"{first} (Personal)" in line and f"{second} (Work)" in line
    assert "--org-id" in line and "NEON_ORG_ID" in line
    assert emulator.projects == {}  # nothing created in a guessed organization

    by_flag = neon("provision", "--org-id", second, "--json")
    assert by_flag.code == 0, by_flag.stderr
    assert next(iter(emulator.projects.values())).data["org_id"] == second
    by_env = neon("describe", "--json", NEON_ORG_ID=second)
    assert by_env.code == 0, by_env.stderr
    assert json.loads(by_env.stdout)["project_id"] == json.loads(by_flag.stdout)["project_id"]
    # In the other organization there is no such project.
    assert neon("describe", "--org-id", first).code == 5


def test_an_org_id_from_the_root_env_file(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.require_org = True
    emulator.add_organization("Personal")
    work = emulator.add_organization("Work")
    dotenv = neon.cwd / "root.env"
    dotenv.write_text(f"NEON_ORG_ID='{work}'\n")
    made = neon("provision", AIDO_ENV_FILE=str(dotenv))
    assert made.code == 0, made.stderr
    assert next(iter(emulator.projects.values())).data["org_id"] == work


def test_a_key_without_organizations_is_told_so(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.require_org = True
    refused = neon("projects")
    assert refused.code == 13
    assert "can see none" in refused.stderr


def test_an_unreadable_project_is_never_duplicated(neon: Neon, emulator: NeonEmulator) -> None:
    assert neon("provision").code == 0
    pid = next(iter(emulator.projects))
    # Neon lists it only under unavailable_project_ids and cannot read it by id either.
    emulator.make_unavailable(pid, listings=100, readable=False)
    stopped = neon("provision")
    assert stopped.code == 7
    assert pid in stopped.stderr and "without creating" in stopped.stderr
    assert "listing again" in stopped.stderr  # it waited, and said so
    assert list(emulator.projects) == [pid]  # no second aido-todo


def test_a_project_only_listed_as_unavailable_is_read_by_id(
    neon: Neon, emulator: NeonEmulator
) -> None:
    assert neon("provision").code == 0
    pid = next(iter(emulator.projects))
    emulator.make_unavailable(pid, listings=100, readable=True)
    reused = neon("provision", "--json")
    assert reused.code == 0, reused.stderr
    assert json.loads(reused.stdout) | {"project_id": pid, "created": False} == json.loads(
        reused.stdout
    )
    assert list(emulator.projects) == [pid]


def test_a_project_that_comes_back_is_reused(neon: Neon, emulator: NeonEmulator) -> None:
    assert neon("provision").code == 0
    pid = next(iter(emulator.projects))
    emulator.make_unavailable(pid, listings=1, readable=False)  # readable again on the retry
    reused = neon("provision", "--json")
    assert reused.code == 0, reused.stderr
    assert json.loads(reused.stdout)["created"] is False
    assert list(emulator.projects) == [pid]


def test_the_listing_names_projects_neon_could_not_read(neon: Neon, emulator: NeonEmulator) -> None:
    assert neon("provision").code == 0
    pid = next(iter(emulator.projects))
    emulator.make_unavailable(pid, listings=1)
    listed = neon("projects", "--json")
    assert listed.code == 0
    assert json.loads(listed.stdout) == []
    assert f"could not read 1 project(s) right now, so they are not listed: {pid}" in (
        listed.stderr
    )


def test_branches_follow_pagination_next(neon: Neon, emulator: NeonEmulator) -> None:
    assert neon("provision").code == 0
    pid = next(iter(emulator.projects))
    emulator.seed_branches(pid, 249)
    emulator.requests.clear()
    listed = neon("branch", "list", "--json")
    assert listed.code == 0, listed.stderr
    assert len({b["id"] for b in json.loads(listed.stdout)}) == 250
    assert emulator.count("GET", f"/projects/{pid}/branches") == 3
