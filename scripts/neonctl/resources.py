"""Look-ups shared by the commands: projects by name, branches, databases, roles, endpoints."""

from __future__ import annotations

import os
from typing import Any

from .client import Client
from .errors import AmbiguousError, NotFoundError, UsageError

PAGE_SIZE = 100
MAX_PAGES = 1000  # a bound on pagination even if the API kept returning full pages

Json = dict[str, Any]


def paginate(client: Client, path: str, key: str, **query: Any) -> list[Json]:
    """Follow `pagination.cursor` (or `.next`); the last page is the first short or empty one."""
    items: list[Json] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = client.get(path, limit=PAGE_SIZE, cursor=cursor, **query)
        batch = page.get(key) or []
        items.extend(batch)
        pagination = page.get("pagination") or {}
        next_cursor = pagination.get("next") or pagination.get("cursor")
        if len(batch) < PAGE_SIZE or not next_cursor or next_cursor == cursor:
            return items
        cursor = next_cursor
    raise UsageError(f"more than {MAX_PAGES} pages of {key}; narrow the search")


def list_projects(client: Client, search: str | None = None) -> list[Json]:
    return paginate(client, "/projects", "projects", search=search or None)


def projects_named(client: Client, name: str) -> list[Json]:
    # `search` matches substrings of names and ids; only an exact name counts.
    return [p for p in list_projects(client, search=name) if p.get("name") == name]


def resolve_project(client: Client, name: str, project_id: str | None) -> Json:
    project_id = project_id or os.environ.get("NEON_PROJECT_ID") or None
    if project_id:
        return dict(client.get(f"/projects/{project_id}")["project"])
    matches = projects_named(client, name)
    if not matches:
        raise NotFoundError(f"no Neon project named {name!r}: run `scripts/neon provision` first")
    if len(matches) > 1:
        raise AmbiguousError(ambiguous_message(name, matches))
    return matches[0]


def ambiguous_message(name: str, matches: list[Json]) -> str:
    ids = ", ".join(str(p.get("id")) for p in matches)
    return (
        f"{len(matches)} Neon projects are named {name!r} ({ids}); pass --project-id, or "
        "delete or rename the extra ones in the console"
    )


def list_branches(client: Client, project_id: str) -> list[Json]:
    return paginate(client, f"/projects/{project_id}/branches", "branches")


def is_default(branch: Json, project: Json) -> bool:
    if project.get("default_branch_id"):
        return bool(branch.get("id") == project["default_branch_id"])
    return bool(branch.get("default") or branch.get("primary"))


def default_branch(client: Client, project: Json) -> Json:
    branches = list_branches(client, project["id"])
    for branch in branches:
        if is_default(branch, project):
            return branch
    if len(branches) == 1:
        return branches[0]
    raise NotFoundError(f"project {project['id']} has no default branch; pass --branch NAME")


def branch_named(client: Client, project_id: str, name: str) -> Json | None:
    for branch in list_branches(client, project_id):
        if branch.get("name") == name:
            return branch
    return None


def pick_branch(client: Client, project: Json, name: str | None) -> Json:
    if not name:
        return default_branch(client, project)
    branch = branch_named(client, project["id"], name)
    if branch is None:
        raise NotFoundError(
            f"project {project['id']} has no branch named {name!r}: "
            f"run `scripts/neon branch create {name}`"
        )
    return branch


def branch_endpoint(client: Client, project_id: str, branch_id: str) -> Json | None:
    endpoints = client.get(f"/projects/{project_id}/endpoints").get("endpoints") or []
    mine = [e for e in endpoints if e.get("branch_id") == branch_id]
    mine.sort(key=lambda e: e.get("type") != "read_write")
    return mine[0] if mine else None


def pick_database_and_role(
    client: Client, project_id: str, branch_id: str, database: str | None, role: str | None
) -> tuple[str, str]:
    """The branch's one database (else --database) and, by default, the role that owns it."""
    base = f"/projects/{project_id}/branches/{branch_id}"
    dbs = client.get(f"{base}/databases").get("databases") or []
    if database:
        chosen = next((d for d in dbs if d.get("name") == database), None)
        if chosen is None:
            names = ", ".join(d.get("name", "?") for d in dbs) or "none"
            raise NotFoundError(f"branch {branch_id} has no database {database!r} (has: {names})")
    elif len(dbs) == 1:
        chosen = dbs[0]
    elif not dbs:
        raise NotFoundError(f"branch {branch_id} has no database; create one in the console")
    else:
        names = ", ".join(d.get("name", "?") for d in dbs)
        raise UsageError(f"branch {branch_id} has several databases ({names}); pass --database")
    if role:
        roles = client.get(f"{base}/roles").get("roles") or []
        if not any(r.get("name") == role for r in roles):
            raise NotFoundError(f"branch {branch_id} has no role {role!r}")
        return str(chosen["name"]), role
    return str(chosen["name"]), str(chosen["owner_name"])


def connection_uri(
    client: Client, project_id: str, branch_id: str, database: str, role: str, *, pooled: bool
) -> str:
    answer = client.get(
        f"/projects/{project_id}/connection_uri",
        branch_id=branch_id,
        database_name=database,
        role_name=role,
        pooled=pooled,
    )
    return str(answer["uri"])
