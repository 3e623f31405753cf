"""Argument parsing and the one place that turns errors into a line on stderr and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from . import commands as c
from .client import Client
from .config import api_key, load_settings
from .errors import EXIT_CODES, INTERRUPTED, NeonError, scrub

DEFAULT_NAME = "aido-todo"

EPILOG = "exit codes:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES.items())
EPILOG += """

environment:
  NEON_API_KEY and NEON_ORG_ID (else the root .env), NEON_API_BASE, NEON_PROJECT_ID
  (instead of --name), NEON_TIMEOUT, NEON_MAX_RETRIES, NEON_RETRY_BASE, NEON_RETRY_CAP,
  NEON_MAX_WAIT, NEON_POLL_INTERVAL (see scripts/neonctl/config.py)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/neon",
        description="Provision and inspect the aido-todo Neon project through the Neon API.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    org = argparse.ArgumentParser(add_help=False)
    org.add_argument(
        "--org-id",
        help="organization to list and create projects in (default NEON_ORG_ID; a personal "
        "key with one organization uses it)",
    )
    project = argparse.ArgumentParser(add_help=False, parents=[org])
    project.add_argument("--name", default=DEFAULT_NAME, help="project name (default aido-todo)")
    project.add_argument("--project-id", help="use this project id instead of the name")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON for scripts")
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("--branch", help="branch name (default: the project's default branch)")
    target.add_argument("--database", help="database name (default: the branch's only one)")
    target.add_argument("--role", help="role name (default: the database's owner)")

    def add(
        name: str,
        func: Callable[..., int],
        help_: str,
        *parents: argparse.ArgumentParser,
        into: argparse._SubParsersAction[argparse.ArgumentParser] = sub,
    ) -> argparse.ArgumentParser:
        p = into.add_parser(name, help=help_, description=help_, parents=list(parents))
        p.set_defaults(func=func)
        return p

    p = add("provision", c.cmd_provision, "create the project, or reuse the one with that name",
            project, as_json)  # fmt: skip
    p.add_argument("--region", help="region id for a new project, e.g. aws-us-east-2")
    p.add_argument("--pg-version", type=int, choices=range(14, 19), metavar="14-18")

    p = add("describe", c.cmd_describe, "ids, names, region and hosts of the project",
            project, as_json)  # fmt: skip
    p.add_argument("--branch", help="describe this branch instead of the default one")

    p = add("projects", c.cmd_projects, "list the projects the key can see", org, as_json)
    p.add_argument("--search", help="only projects whose name or id contains this")

    p = add("connection-string", c.cmd_connection_string,
            "the psycopg 3 URL (password hidden unless --show-password or stdout is a file)",
            project, target, as_json)  # fmt: skip
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--pooled", dest="pooled", action="store_true", default=True,
                      help="the PgBouncer host, for the app (default)")  # fmt: skip
    kind.add_argument("--direct", dest="pooled", action="store_false",
                      help="the direct host, for migrations and dumps")  # fmt: skip
    p.add_argument("--show-password", action="store_true")

    p = add("env", c.cmd_env, "write Neon mode's settings to a file: DATABASE_URL, "
            "DATABASE_DIRECT_URL, NEON_PROJECT_ID and JWT_SECRET (kept, copied from .env, or "
            "generated; never printed)", project, target)  # fmt: skip
    p.add_argument("--file", default=".env.neon", help="env file to update (default .env.neon)")

    p = add("psql", c.cmd_psql, "psql on the branch's direct host (password via PGPASSWORD)",
            project, target)  # fmt: skip
    p.add_argument("psql_args", nargs=argparse.REMAINDER, metavar="-- PSQL-ARGS",
                   help="passed to psql, e.g. -- -c 'select 1'")  # fmt: skip

    branch = sub.add_parser("branch", help="create, reset, delete or list branches")
    bsub = branch.add_subparsers(dest="branch_command", required=True, metavar="ACTION")
    p = add("create", c.cmd_branch_create, "create a branch with a read-write compute",
            project, as_json, into=bsub)  # fmt: skip
    p.add_argument("branch_name", metavar="NAME")
    p.add_argument("--parent", help="parent branch name (default: the default branch)")
    p.add_argument("--expires-in", help="delete automatically after e.g. 24h, 7d, 90m")
    p = add("delete", c.cmd_branch_delete, "delete a branch", project, into=bsub)
    p.add_argument("branch_name", metavar="NAME")
    add("list", c.cmd_branch_list, "list the project's branches", project, as_json, into=bsub)
    p = add("reset", c.cmd_branch_reset, "reset a branch to the latest state of its parent",
            project, as_json, into=bsub)  # fmt: skip
    p.add_argument("branch_name", metavar="NAME")
    p.add_argument("--preserve-under-name", metavar="NAME",
                   help="keep its current state (and child branches) under this name")  # fmt: skip

    p = add("delete", c.cmd_delete, "delete the project (needs --yes and --name)", org)
    p.add_argument("--name", help="the exact name of the project to delete")
    p.add_argument("--yes", action="store_true", help="confirm the deletion")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        client = Client(load_settings(org_id=args.org_id), api_key())
        return int(args.func(args, client))
    except NeonError as exc:
        print(f"neon: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("neon: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
        detail = scrub(str(exc))[:200]
        print(f"neon: error: unexpected {type(exc).__name__}: {detail}", file=sys.stderr)
        return 1
