"""The subcommands. Each takes the parsed arguments and a Client, prints, and returns an exit code.

Passwords exist here only inside URIs the API returns; they are printed only by
`connection-string --show-password` (or when stdout is a file) and written only by `env`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import secrets
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

from . import resources as r
from .client import Client, say
from .config import dotenv_path
from .envfile import read_env_file, update_env_file
from .errors import AmbiguousError, MissingProgramError, NotFoundError, UsageError
from .operations import wait_for_operations, wait_for_project_idle
from .output import emit_json, emit_pairs, emit_table
from .urls import for_psql, host_of, masked, to_psycopg

Json = dict[str, Any]


def summary(client: Client, project: Json, branch: Json | None = None) -> Json:
    """What provision/describe print: ids, names, region and hosts, never the password."""
    pid = project["id"]
    branch = branch or r.default_branch(client, project)
    endpoint = r.branch_endpoint(client, pid, branch["id"])
    info: Json = {
        "project_id": pid,
        "project_name": project.get("name"),
        "region": project.get("region_id"),
        "pg_version": project.get("pg_version"),
        "branch": branch.get("name"),
        "branch_id": branch["id"],
        "endpoint_id": endpoint.get("id") if endpoint else None,
        "database": None,
        "role": None,
        "host": None,
        "pooler_host": None,
    }
    if endpoint is None:
        return info
    database, role = r.pick_database_and_role(client, pid, branch["id"], None, None)
    info["database"], info["role"] = database, role
    direct = r.connection_uri(client, pid, branch["id"], database, role, pooled=False)
    pooled = r.connection_uri(client, pid, branch["id"], database, role, pooled=True)
    info["host"], info["pooler_host"] = host_of(direct), host_of(pooled)
    return info


def cmd_provision(args: argparse.Namespace, client: Client) -> int:
    matches = r.projects_named(client, args.name)
    if len(matches) > 1:
        raise AmbiguousError(r.ambiguous_message(args.name, matches))
    if matches:
        project = matches[0]
        say(f"reusing project {project['id']} ({args.name!r}); nothing created")
        _warn_mismatch(project, args)
        wait_for_project_idle(client, project["id"])
        created = False
    else:
        body: Json = {"name": args.name}
        if args.region:
            body["region_id"] = args.region
        if args.pg_version:
            body["pg_version"] = args.pg_version
        say(f"creating project {args.name!r}…")

        def create() -> Json:
            if client.org_id:
                body["org_id"] = client.org_id
            return client.post("/projects", {"project": body})

        answer = r.with_organization(client, create)
        project = answer["project"]
        say(f"created project {project['id']} in {project.get('region_id')}")
        wait_for_operations(client, project["id"], answer.get("operations") or [])
        created = True
    info = summary(client, project)
    info["created"] = created
    _print(args, info)
    if not args.json:
        say("next: `scripts/neon env` writes the settings for Neon mode to .env.neon")
    return 0


def _warn_mismatch(project: Json, args: argparse.Namespace) -> None:
    if args.region and project.get("region_id") != args.region:
        say(f"warning: the existing project is in {project.get('region_id')}, not {args.region}")
    if args.pg_version and project.get("pg_version") != args.pg_version:
        say(
            f"warning: the existing project runs Postgres {project.get('pg_version')}, "
            f"not {args.pg_version}"
        )


def cmd_describe(args: argparse.Namespace, client: Client) -> int:
    project = r.resolve_project(client, args.name, args.project_id)
    branch = r.pick_branch(client, project, args.branch) if args.branch else None
    _print(args, summary(client, project, branch))
    return 0


def cmd_projects(args: argparse.Namespace, client: Client) -> int:
    projects = r.list_projects(client, search=args.search)
    if args.json:
        emit_json(projects)
    else:
        emit_table(projects, ["id", "name", "region_id", "pg_version", "created_at"])
    return 0


def _target(args: argparse.Namespace, client: Client) -> tuple[Json, Json, str, str]:
    project = r.resolve_project(client, args.name, args.project_id)
    branch = r.pick_branch(client, project, args.branch)
    database, role = r.pick_database_and_role(
        client, project["id"], branch["id"], args.database, args.role
    )
    return project, branch, database, role


def cmd_connection_string(args: argparse.Namespace, client: Client) -> int:
    project, branch, database, role = _target(args, client)
    uri = r.connection_uri(client, project["id"], branch["id"], database, role, pooled=args.pooled)
    url = to_psycopg(uri)
    shown = url if args.show_password or _stdout_is_file() else masked(url)
    if args.json:
        emit_json(
            {
                "url": shown,
                "pooled": args.pooled,
                "host": host_of(url),
                "database": database,
                "role": role,
                "branch": branch.get("name"),
                "project_id": project["id"],
            }
        )
    else:
        print(shown)
    if shown != url and sys.stderr.isatty():
        say("password hidden; add --show-password, or use `scripts/neon env` to write a file")
    return 0


def _stdout_is_file() -> bool:
    try:
        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError):
        return False


# Keys of .env that the note of `env` leaves out: what env writes itself, and what only local
# mode uses (the compose `db` service's port and POSTGRES_*, scripts/neon's own NEON_*).
NOT_FOR_NEON_MODE = {"DB_PORT", "JWT_SECRET", "DATABASE_URL", "DATABASE_DIRECT_URL"}


def cmd_env(args: argparse.Namespace, client: Client) -> int:
    """Write a complete environment for Neon mode: the URLs, the project id, a JWT secret.

    `docker compose --env-file .env.neon` reads that file instead of `.env`, so it must hold
    the user's own JWT_SECRET too, or the backend would sign tokens with the public
    development default. A JWT_SECRET already in the file is kept as it is; otherwise the one
    in the root .env is copied; otherwise a new one is generated. It is never printed.
    """
    project, branch, database, role = _target(args, client)
    pid, bid = project["id"], branch["id"]
    pooled = to_psycopg(r.connection_uri(client, pid, bid, database, role, pooled=True))
    direct = to_psycopg(r.connection_uri(client, pid, bid, database, role, pooled=False))
    path = Path(args.file)
    values = {"DATABASE_URL": pooled, "DATABASE_DIRECT_URL": direct, "NEON_PROJECT_ID": pid}
    existing = read_env_file(path)
    dotenv = dotenv_path()
    local = read_env_file(dotenv) if dotenv and dotenv.resolve() != path.resolve() else {}
    if existing.get("JWT_SECRET"):
        jwt_origin = "JWT_SECRET kept"
    elif local.get("JWT_SECRET"):
        values["JWT_SECRET"] = local["JWT_SECRET"]
        jwt_origin = f"JWT_SECRET copied from {dotenv}"
    else:
        values["JWT_SECRET"] = secrets.token_urlsafe(48)
        jwt_origin = "a new JWT_SECRET"
    update_env_file(path, values)
    say(
        f"wrote DATABASE_URL ({host_of(pooled)}), DATABASE_DIRECT_URL ({host_of(direct)}), "
        f"NEON_PROJECT_ID and {jwt_origin} to {path} (mode 0600; branch {branch.get('name')})"
    )
    unread = sorted(k for k in local if k not in existing and k not in values and k not in
                    NOT_FOR_NEON_MODE and not k.startswith(("NEON_", "POSTGRES_")))  # fmt: skip
    if unread:
        say(
            f"note: {dotenv} also sets {', '.join(unread)}; Neon mode (--env-file {path}) reads "
            f"{path} instead, so copy the ones you need there"
        )
    return 0


def cmd_psql(args: argparse.Namespace, client: Client) -> int:
    """psql on the branch's direct host; the password goes through PGPASSWORD, not argv."""
    project, branch, database, role = _target(args, client)
    uri = r.connection_uri(client, project["id"], branch["id"], database, role, pooled=False)
    url, password = for_psql(uri)
    program = shutil.which("psql")
    if program is None:
        raise MissingProgramError(
            "psql is not installed: install the PostgreSQL client (Debian/Ubuntu: "
            "apt-get install postgresql-client; macOS: brew install libpq)"
        )
    extra = list(args.psql_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    say(f"psql on {host_of(url)} (branch {branch.get('name')}, database {database}, role {role})")
    sys.stdout.flush()
    sys.stderr.flush()
    env = {**os.environ, "PGPASSWORD": password}
    try:
        os.execve(program, [program, url, *extra], env)  # noqa: S606 - psql, by design
    except OSError as exc:
        raise MissingProgramError(f"cannot run {program}: {exc.strerror}") from None
    return 0  # pragma: no cover - execve does not return


_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"--expires-in {text!r}: expected a number and s, m, h or d (e.g. 24h)")
    return dt.timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])


def cmd_branch_create(args: argparse.Namespace, client: Client) -> int:
    expires = parse_duration(args.expires_in) if args.expires_in else None
    project = r.resolve_project(client, args.name, args.project_id)
    pid = project["id"]
    existing = r.branch_named(client, pid, args.branch_name)
    created = existing is None
    if existing:
        say(f"branch {args.branch_name!r} exists ({existing['id']}); nothing created")
        wait_for_project_idle(client, pid)
        branch = existing
    else:
        parent = r.pick_branch(client, project, args.parent)
        # A write during running operations gets 423: wait for them instead of retrying blind.
        wait_for_project_idle(client, pid)
        spec: Json = {"name": args.branch_name, "parent_id": parent["id"]}
        if expires:
            when = dt.datetime.now(dt.UTC).replace(microsecond=0) + expires
            spec["expires_at"] = when.isoformat().replace("+00:00", "Z")
        answer = client.post(
            f"/projects/{pid}/branches", {"branch": spec, "endpoints": [{"type": "read_write"}]}
        )
        branch = answer["branch"]
        say(f"created branch {branch['id']} ({args.branch_name!r}) from {parent.get('name')!r}")
        wait_for_operations(client, pid, answer.get("operations") or [])
    info = summary(client, project, branch)
    info["expires_at"] = branch.get("expires_at")
    info["created"] = created
    _print(args, info)
    return 0


def cmd_branch_delete(args: argparse.Namespace, client: Client) -> int:
    project = r.resolve_project(client, args.name, args.project_id)
    pid = project["id"]
    branch = r.branch_named(client, pid, args.branch_name)
    if branch is None:
        say(f"project {pid} has no branch {args.branch_name!r}; nothing to delete")
        return 0
    if r.is_default(branch):
        raise UsageError(f"{args.branch_name!r} is the project's default branch; not deleting it")
    wait_for_project_idle(client, pid)
    answer = client.delete(f"/projects/{pid}/branches/{branch['id']}")
    wait_for_operations(client, pid, answer.get("operations") or [])
    say(f"deleted branch {branch['id']} ({args.branch_name!r})")
    return 0


def cmd_branch_list(args: argparse.Namespace, client: Client) -> int:
    project = r.resolve_project(client, args.name, args.project_id)
    branches = r.list_branches(client, project["id"])
    if args.json:
        emit_json(branches)
        return 0
    rows = [
        {**b, "default": "yes" if r.is_default(b) else "", "state": b.get("current_state")}
        for b in branches
    ]
    emit_table(rows, ["id", "name", "default", "state", "created_at", "expires_at"])
    return 0


def cmd_branch_reset(args: argparse.Namespace, client: Client) -> int:
    """Bring a branch back to the latest state of its parent (Neon's restore to head).

    The branch keeps its id, compute and connection strings; its data becomes the parent's.
    A branch with child branches can only be reset with --preserve-under-name, which keeps
    its current state (and its children) under that name.
    """
    project = r.resolve_project(client, args.name, args.project_id)
    pid = project["id"]
    branches = r.list_branches(client, pid)
    branch = next((b for b in branches if b.get("name") == args.branch_name), None)
    if branch is None:
        raise NotFoundError(f"project {pid} has no branch named {args.branch_name!r}")
    parent = next((b for b in branches if b["id"] == branch.get("parent_id")), None)
    if parent is None:
        raise UsageError(
            f"{args.branch_name!r} has no parent branch (it is the project's root): there is "
            "nothing to reset it to"
        )
    children = [b.get("name") for b in branches if b.get("parent_id") == branch["id"]]
    if children and not args.preserve_under_name:
        raise UsageError(
            f"{args.branch_name!r} has child branches ({', '.join(map(str, children))}): Neon "
            "resets it only with --preserve-under-name NAME, which keeps its current state "
            "and its children under NAME"
        )
    wait_for_project_idle(client, pid)
    body: Json = {"source_branch_id": parent["id"]}
    if args.preserve_under_name:
        body["preserve_under_name"] = args.preserve_under_name
    say(f"resetting branch {args.branch_name!r} to the latest state of {parent.get('name')!r}…")
    answer = client.post(f"/projects/{pid}/branches/{branch['id']}/restore", body)
    wait_for_operations(client, pid, answer.get("operations") or [])
    kept = (
        f"; its old state is branch {args.preserve_under_name!r}"
        if args.preserve_under_name
        else ""
    )
    say(
        f"reset branch {branch['id']} ({args.branch_name!r}) to {parent.get('name')!r}"
        f"{kept}; its connection strings are unchanged"
    )
    _print(args, summary(client, project, answer.get("branch") or branch))
    return 0


def cmd_delete(args: argparse.Namespace, client: Client) -> int:
    if not args.yes or not args.name:
        raise UsageError("delete needs both --yes and --name NAME (the project's exact name)")
    matches = r.projects_named(client, args.name)
    if len(matches) > 1:
        raise AmbiguousError(r.ambiguous_message(args.name, matches))
    if not matches:
        say(f"no Neon project named {args.name!r}; nothing to delete")
        return 0
    pid = matches[0]["id"]
    wait_for_project_idle(client, pid)
    client.delete(f"/projects/{pid}")
    say(f"deleted project {pid} ({args.name!r}) and all its branches")
    return 0


def _print(args: argparse.Namespace, info: Json) -> None:
    if args.json:
        emit_json(info)
    else:
        emit_pairs(info)
