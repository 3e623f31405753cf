"""Look-ups shared by the commands: projects by name, branches, databases, roles, endpoints."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .client import Client, say
from .errors import (
    AmbiguousError,
    NetworkError,
    NotFoundError,
    OrgRequiredError,
    UnavailableError,
    UsageError,
)

PAGE_SIZE = 100
MAX_PAGES = 1000  # a bound on pagination even if the API kept returning full pages
# How often a listing is repeated while Neon cannot read some projects (unavailable_project_ids).
UNAVAILABLE_ATTEMPTS = 3

Json = dict[str, Any]
T = TypeVar("T")


def paginate(client: Client, path: str, key: str, cursor_field: str, **query: Any) -> list[Json]:
    """Follow the page cursor; the last page is the first short or empty one.

    The document gives projects and operations `pagination.cursor` (set even on the last
    page) and branches `pagination.next`: `cursor_field` says which.
    """
    items, _ = paginate_with_unavailable(client, path, key, cursor_field, **query)
    return items


def paginate_with_unavailable(
    client: Client, path: str, key: str, cursor_field: str, **query: Any
) -> tuple[list[Json], list[str]]:
    items: list[Json] = []
    unavailable: list[str] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = client.get(path, limit=PAGE_SIZE, cursor=cursor, **query)
        batch = page.get(key) or []
        items.extend(batch)
        missing = page.get("unavailable_project_ids") or []
        unavailable.extend(missing)
        next_cursor = (page.get("pagination") or {}).get(cursor_field)
        # Projects Neon could not read still count toward the page's size.
        if len(batch) + len(missing) < PAGE_SIZE or not next_cursor or next_cursor == cursor:
            return items, unavailable
        cursor = next_cursor
    raise UsageError(f"more than {MAX_PAGES} pages of {key}; narrow the search")


def with_organization(client: Client, call: Callable[[], T]) -> T:
    """Run a project listing or creation; when Neon wants an organization, find it or say so.

    A personal API key must name an organization (`org_id`) there. With --org-id /
    NEON_ORG_ID that is done already; otherwise the key's only organization is used (as
    Neon's own tools do), and with several the error lists them.
    """
    try:
        return call()
    except OrgRequiredError:
        if client.org_id:
            raise
    orgs = client.get("/users/me/organizations").get("organizations") or []
    if len(orgs) == 1:
        client.org_id = str(orgs[0]["id"])
        say(
            f"using organization {orgs[0].get('name')!r} ({client.org_id}), the only one this "
            "key can see (set NEON_ORG_ID or pass --org-id to choose it yourself)"
        )
        return call()
    if not orgs:
        raise OrgRequiredError(
            "Neon needs an organization for this API key, and the key can see none: create "
            "one in the console, or use an organization API key"
        )
    listed = ", ".join(f"{o.get('id')} ({o.get('name')})" for o in orgs)
    raise OrgRequiredError(
        f"Neon needs an organization for this API key; it can see {len(orgs)}: {listed}; "
        "pass --org-id ID or set NEON_ORG_ID=ID (in the environment or the root .env)"
    )


def list_projects_and_unavailable(
    client: Client, search: str | None = None
) -> tuple[list[Json], list[str]]:
    return with_organization(
        client,
        lambda: paginate_with_unavailable(
            client, "/projects", "projects", "cursor", search=search or None, org_id=client.org_id
        ),
    )


def list_projects(client: Client, search: str | None = None) -> list[Json]:
    projects, unavailable = list_projects_and_unavailable(client, search)
    if unavailable:
        say(
            f"Neon could not read {len(unavailable)} project(s) right now, so they are not "
            f"listed: {', '.join(unavailable)}"
        )
    return projects


def projects_named(client: Client, name: str) -> list[Json]:
    """Projects with exactly this name; never an answer while Neon cannot read some project.

    `search` matches substrings of names and ids, so only an exact name counts. A project
    Neon lists under `unavailable_project_ids` could be the one named `name`: it is asked for
    by id, and if Neon still cannot read it the listing is repeated a few times, then this
    stops with UnavailableError rather than answer "none" (provision would then create a
    duplicate).
    """
    s = client.settings
    unknown: list[str] = []
    for attempt in range(UNAVAILABLE_ATTEMPTS):
        projects, unavailable = list_projects_and_unavailable(client, search=name)
        unknown = []
        for project_id in unavailable:
            try:
                projects.append(client.get(f"/projects/{project_id}")["project"])
            except NotFoundError:
                continue  # deleted meanwhile
            except (UnavailableError, NetworkError):
                unknown.append(project_id)
        if not unknown:
            return [p for p in projects if p.get("name") == name]
        if attempt + 1 < UNAVAILABLE_ATTEMPTS:
            delay = min(s.retry_cap, s.poll_interval * 2**attempt)
            say(
                f"Neon cannot read project(s) {', '.join(unknown)} right now; listing again in "
                f"{delay:.1f}s ({attempt + 1}/{UNAVAILABLE_ATTEMPTS - 1})"
            )
            time.sleep(delay)
    raise UnavailableError(
        f"Neon cannot read project(s) {', '.join(unknown)} right now, and one of them may be "
        f"named {name!r}: stopping without creating or changing anything; run again in a "
        "minute (or pass --project-id)"
    )


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
    return paginate(client, f"/projects/{project_id}/branches", "branches", "next")


def is_default(branch: Json) -> bool:
    # `default`, not the deprecated `primary`; projects carry no default branch id.
    return bool(branch.get("default"))


def default_branch(client: Client, project: Json) -> Json:
    branches = list_branches(client, project["id"])
    for branch in branches:
        if is_default(branch):
            return branch
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
