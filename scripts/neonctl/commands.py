"""The subcommands. Each takes the parsed arguments and a Client, prints, and returns an exit code.

Passwords exist here only inside URIs the API returns; they are printed only by
`connection-string --show-password` (or when stdout is a file) and written only by `env`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

from . import resources as r
from .client import Client, say
from .envfile import update_env_file
from .errors import AmbiguousError, UsageError
from .operations import wait_for_operations, wait_for_project_idle
from .output import emit_json, emit_pairs, emit_table
from .urls import host_of, masked, to_psycopg

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
        answer = client.post("/projects", {"project": body})
        project = answer["project"]
        say(f"created project {project['id']} in {project.get('region_id')}")
        wait_for_operations(client, project["id"], answer.get("operations") or [])
        created = True
    info = summary(client, project)
    info["created"] = created
    _print(args, info)
    if not args.json:
        say("next: `scripts/neon env` writes DATABASE_URL and DATABASE_DIRECT_URL to .env.neon")
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


def cmd_env(args: argparse.Namespace, client: Client) -> int:
    project, branch, database, role = _target(args, client)
    pid, bid = project["id"], branch["id"]
    pooled = to_psycopg(r.connection_uri(client, pid, bid, database, role, pooled=True))
    direct = to_psycopg(r.connection_uri(client, pid, bid, database, role, pooled=False))
    path = Path(args.file)
    update_env_file(
        path, {"DATABASE_URL": pooled, "DATABASE_DIRECT_URL": direct, "NEON_PROJECT_ID": pid}
    )
    say(
        f"wrote DATABASE_URL ({host_of(pooled)}), DATABASE_DIRECT_URL ({host_of(direct)}) and "
        f"NEON_PROJECT_ID to {path} (mode 0600; branch {branch.get('name')})"
    )
    return 0


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
    _print(args, info)
    return 0


def cmd_branch_delete(args: argparse.Namespace, client: Client) -> int:
    project = r.resolve_project(client, args.name, args.project_id)
    pid = project["id"]
    branch = r.branch_named(client, pid, args.branch_name)
    if branch is None:
        say(f"project {pid} has no branch {args.branch_name!r}; nothing to delete")
        return 0
    if r.is_default(branch, project):
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
        {**b, "default": "yes" if r.is_default(b, project) else "", "state": b.get("current_state")}
        for b in branches
    ]
    emit_table(rows, ["id", "name", "default", "state", "created_at", "expires_at"])
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
