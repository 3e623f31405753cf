"""A Neon API v2 emulator for tests: a real HTTP server on 127.0.0.1 backed by a real Postgres.

The contract is Neon's published OpenAPI document (neon_emulator_contract.py fetches it at a
pinned version and checksum). Every request the emulator receives and every answer it gives is
checked against that document; what does not match is recorded in `violations`, and the test
fixtures fail a test that leaves any (`assert_contract_kept`). So the emulator answers only in
the document's shapes: `{"project": …}` bodies, 201 on create with `project`,
`connection_uris`, `roles`, `databases`, `branch`, `endpoints`, `operations`; listings with
their maps (`applications`, `integrations`, `annotations`) and their own pagination
(`pagination.cursor` for projects and operations, `pagination.next` for branches); error bodies
`{"code", "message", "request_id"}`; 423 for a conflicting request while a project has running
operations. Of the optional fields it sends only those the real API sends where they matter
(`parent_id`, `pending_state`, `expires_at`, `org_id`, an operation's `branch_id`,
`endpoint_id` and `error`), and no deprecated one (`primary`): a client that works on the
smallest answer the document allows works on the real one.

Postgres. Creating a project creates a LOGIN role (CREATEDB, like Neon's owner role) with a
random `npg_…` password and a database owned by it on the Postgres behind `admin_url`; a branch
gets its own database, copied from the parent's (`CREATE DATABASE … TEMPLATE`), like Neon's
copy-on-write branches, and restoring a branch to its parent copies the parent again under the
same name. All projects share one Postgres cluster, so role and database names carry the
project's number (`neondb_owner_06846227`, `neondb_06846227`): clients must read names from
the API, as they must with Neon.

Hosts, offline. Endpoint hosts look like Neon's (`ep-quiet-sun-1a2b3c4d.us-east-2.aws.neon.test`,
pooled `ep-quiet-sun-1a2b3c4d-pooler.us-east-2.aws.neon.test`) under the reserved `.test` TLD,
which never resolves, and every connection URI carries `hostaddr=<the Postgres IP>` and the
Postgres port. libpq (and psycopg, and psql) connect to `hostaddr` without a DNS look-up, so
both the pooled and the direct URI reach the local Postgres. There is no PgBouncer: the pooled
URI reaches Postgres directly. The URIs carry `sslmode=require` when that Postgres has TLS on
and `sslmode=disable` when it has not (the test clusters have no certificate); pass `sslmode=`
to force one (for URL-shape tests that never connect).

Accounts. `require_org = True` makes the key a personal one that must name an organization
(`org_id`) to list or create projects, as Neon answers such keys; `organizations` is what
`GET /users/me/organizations` lists. `make_unavailable` lists a project under
`unavailable_project_ids` instead of `projects`, as Neon does when it cannot read one in time.

Faults, for the retry tests, from Python (`inject`, `slow`, `fail_operations`) or, when run as
a subprocess, from `POST /_emulator/{faults,slow,fail_operations,reset}` and
`GET /_emulator/{requests,violations}`. Run standalone with
`NEON_EMULATOR_ADMIN_URL=postgresql://… python backend/tests/support/neon_emulator.py` (prints the
base URL, serves until SIGTERM, then drops what it created).

Modules: this one is the API model; neon_emulator_http.py the HTTP glue (auth, faults, error
bodies, contract checks); neon_emulator_pg.py the Postgres side; neon_emulator_contract.py
the published document.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import secrets
import string
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from urllib.parse import quote

try:
    from tests.support.neon_emulator_contract import Contract, contract
    from tests.support.neon_emulator_http import API_PREFIX, BUSY, ApiError, Json, make_handler
    from tests.support.neon_emulator_pg import PgCluster
except ImportError:  # run as a file: `python backend/tests/support/neon_emulator.py`
    from neon_emulator_contract import Contract, contract  # type: ignore[no-redef]
    from neon_emulator_http import API_PREFIX, BUSY, ApiError, Json, make_handler  # type: ignore[no-redef]
    from neon_emulator_pg import PgCluster  # type: ignore[no-redef]

DEFAULT_KEY = "neon-emulator-key"
ADJECTIVES = ["quiet", "long", "bold", "misty", "young", "calm", "red", "snowy", "wild", "odd"]
NOUNS = ["sun", "forest", "river", "cloud", "field", "sea", "leaf", "moon", "hill", "star"]
ORG_REQUIRED = "org_id is required, you can find it on your organization settings page"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug() -> str:
    return f"{random.choice(ADJECTIVES)}-{random.choice(NOUNS)}"  # noqa: S311 - names, not secrets


@dataclass
class Fault:
    status: int
    count: int = 1
    retry_after: float | None = None
    method: str | None = None
    path: str | None = None  # a substring of the request path
    message: str = ""

    def matches(self, method: str, path: str) -> bool:
        return (
            self.count > 0
            and (self.method is None or self.method == method)
            and (self.path is None or self.path in path)
        )


@dataclass
class Project:
    data: Json  # the document's Project
    number: str
    seq: int
    listing_only: bool = False
    branches: dict[str, Json] = field(default_factory=dict)
    endpoints: dict[str, Json] = field(default_factory=dict)
    roles: dict[str, list[Json]] = field(default_factory=dict)  # branch id -> roles
    databases: dict[str, list[Json]] = field(default_factory=dict)  # branch id -> databases
    passwords: dict[str, str] = field(default_factory=dict)  # role name -> password
    operations: list[Json] = field(default_factory=list)
    started: dict[str, tuple[float, str | None]] = field(default_factory=dict)  # op id -> …
    pg_databases: list[str] = field(default_factory=list)
    unavailable_listings: int = 0  # the next N listings cannot read it
    unreadable: bool = False  # and GET /projects/{id} answers 503 meanwhile

    @property
    def id(self) -> str:
        return str(self.data["id"])

    def default_branch(self) -> Json:
        return next(b for b in self.branches.values() if b["default"])


class NeonEmulator:
    def __init__(
        self,
        admin_url: str,
        *,
        api_key: str = DEFAULT_KEY,
        op_seconds: float = 0.3,
        sslmode: str | None = None,
        checked_against: Contract | None = None,
        password_alphabet: str = string.ascii_letters + string.digits,
    ) -> None:
        self.pg = PgCluster(admin_url)
        self.contract = checked_against or contract()
        self.api_keys = {api_key}
        self.forbidden_keys: set[str] = set()
        self.op_seconds = op_seconds
        self.password_alphabet = password_alphabet  # Neon's are letters and digits
        self._sslmode = sslmode
        self.projects: dict[str, Project] = {}
        self.organizations: list[Json] = []
        self.require_org = False
        self.faults: list[Fault] = []
        self.delay = 0.0
        self.failing_actions: dict[str, str] = {}
        self.requests: list[Json] = []
        self.violations: list[str] = []  # requests and answers the document does not allow
        self.issued_passwords: list[str] = []  # kept after deletion, for leak checks
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._seq = 0

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the emulator first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{API_PREFIX}"

    def start(self) -> NeonEmulator:
        if self._sslmode is None:
            self._sslmode = "require" if self.pg.ssl_on() else "disable"
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop every database and role the emulator created."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self.lock:
            for project in list(self.projects.values()):
                self._drop_pg(project)
            self.projects.clear()

    def __enter__(self) -> NeonEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls -----------------------------------------------------------------------

    def inject(
        self,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
        message: str = "",
    ) -> None:
        """The next `count` matching requests get `status` (with Retry-After when given)."""
        with self.lock:
            self.faults.append(Fault(status, count, retry_after, method, path, message))

    def slow(self, seconds: float) -> None:
        self.delay = seconds

    def fail_operations(self, action: str, error: str) -> None:
        """Operations with this action created from now on end `failed` with `error`."""
        self.failing_actions[action] = error

    def add_organization(self, name: str) -> str:
        org_id = f"org-{_slug()}-{random.randrange(10**8):08d}"  # noqa: S311
        now = _now()
        handle = f"{name.lower().replace(' ', '-')}-{org_id[-8:]}"
        self.organizations.append(
            {"id": org_id, "name": name, "handle": handle, "plan": "free_v3",
             "created_at": now, "updated_at": now, "managed_by": "console"}
        )  # fmt: skip
        return org_id

    def make_unavailable(self, project_id: str, *, listings: int, readable: bool = True) -> None:
        """The next `listings` project listings name it only in `unavailable_project_ids`."""
        with self.lock:
            project = self.projects[project_id]
            project.unavailable_listings = listings
            project.unreadable = not readable

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.failing_actions.clear()
            self.delay = 0.0
            self.requests.clear()

    def take_violations(self) -> list[str]:
        """The contract violations seen so far, cleared (for tests that cause them on purpose)."""
        with self.lock:
            seen, self.violations = self.violations, []
        return seen

    def assert_contract_kept(self) -> None:
        seen = self.take_violations()
        assert not seen, "Neon's OpenAPI document does not allow:\n" + "\n".join(seen)

    def seed_projects(self, count: int, prefix: str = "seed") -> list[str]:
        """Projects that only appear in listings (no Postgres objects): for pagination tests."""
        ids = []
        with self.lock:
            for i in range(count):
                project = self._new_project_record(f"{prefix}-{i:04d}", "aws-us-east-2", 17, None)
                project.listing_only = True
                ids.append(project.id)
        return ids

    def seed_branches(self, project_id: str, count: int, prefix: str = "seed") -> None:
        """Branches that only appear in listings (no database, no compute): for pagination."""
        with self.lock:
            project = self.projects[project_id]
            parent = project.default_branch()
            for i in range(count):
                branch = self._branch_record(project, f"{prefix}-{i:04d}", parent, None)
                branch["current_state"] = branch.pop("pending_state")
                project.branches[branch["id"]] = branch

    def password_of(self, project_id: str) -> str:
        return next(iter(self.projects[project_id].passwords.values()))

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for r in self.requests if r["method"] == method and path_part in r["path"])

    def _drop_pg(self, project: Project) -> None:
        if not project.listing_only:
            self.pg.drop(project.pg_databases, list(project.passwords))
            project.pg_databases.clear()

    # -- shapes of the document --------------------------------------------------------------

    def _new_project_record(
        self, name: str, region: str, pg_version: int, org_id: str | None
    ) -> Project:
        self._seq += 1
        number = f"{random.randrange(10**8):08d}"  # noqa: S311
        now = _now()
        data: Json = {
            "id": f"{_slug()}-{number}",
            "name": name,
            "platform_id": "aws",
            "region_id": region,
            "pg_version": pg_version,
            "proxy_host": self._region_host(region),
            "provisioner": "k8s-neonvm",
            "branch_logical_size_limit": 512,
            "branch_logical_size_limit_bytes": 512 * 1024 * 1024,
            "store_passwords": True,
            "cpu_used_sec": 0,
            "active_time_seconds": 0,
            "compute_time_seconds": 0,
            "written_data_bytes": 0,
            "data_transfer_bytes": 0,
            "data_storage_bytes_hour": 0,
            "history_retention_seconds": 86400,
            "creation_source": "console",
            "consumption_period_start": now,
            "consumption_period_end": "9999-12-31T23:59:59Z",
            "owner_id": "emulator-user",
            "created_at": now,
            "updated_at": now,
        }
        if org_id:
            data["org_id"] = org_id
        project = Project(data=data, number=number, seq=self._seq)
        self.projects[project.id] = project
        return project

    @staticmethod
    def _list_item(project: Project) -> Json:
        """The document's ProjectListItem: a subset of Project, plus `active_time`."""
        keys = ("id", "name", "platform_id", "region_id", "pg_version", "proxy_host",
                "provisioner", "branch_logical_size_limit", "branch_logical_size_limit_bytes",
                "store_passwords", "cpu_used_sec", "creation_source", "owner_id", "created_at",
                "updated_at", "org_id")  # fmt: skip
        item = {k: project.data[k] for k in keys if k in project.data}
        item["active_time"] = 0
        return item

    @staticmethod
    def _region_host(region: str) -> str:
        cloud, _, area = region.partition("-")
        return f"{area}.{cloud}.neon.test"

    @staticmethod
    def _operation_public(op: Json) -> Json:
        return {k: v for k, v in op.items() if v is not None}

    def _operation(
        self, project: Project, action: str, branch_id: str, endpoint_id: str | None
    ) -> Json:
        now = _now()
        op: Json = {
            "id": str(uuid.uuid4()),
            "project_id": project.id,
            "branch_id": branch_id,
            "endpoint_id": endpoint_id,
            "action": action,
            "status": "running",
            "failures_count": 0,
            "created_at": now,
            "updated_at": now,
            "total_duration_ms": 0,
        }
        project.operations.append(op)
        project.started[op["id"]] = (time.monotonic(), self.failing_actions.get(action))
        return op

    def _refresh(self, project: Project) -> None:
        """Operations finish (or fail) `op_seconds` after they start; states follow."""
        for op in project.operations:
            if op["status"] != "running":
                continue
            started, failure = project.started[op["id"]]
            elapsed = time.monotonic() - started
            if elapsed >= self.op_seconds:
                op["status"] = "failed" if failure else "finished"
                if failure:
                    op["error"] = failure
                    op["failures_count"] = 1
                op["updated_at"] = _now()
                op["total_duration_ms"] = int(elapsed * 1000)
        for branch in project.branches.values():
            if "pending_state" in branch and not self._running(project, branch["id"]):
                branch["current_state"] = branch.pop("pending_state")
                branch["state_changed_at"] = _now()
        for endpoint in project.endpoints.values():
            if "pending_state" in endpoint and not self._running(project, endpoint["branch_id"]):
                endpoint["current_state"] = endpoint.pop("pending_state")

    @staticmethod
    def _running(project: Project, branch_id: str | None = None) -> bool:
        return any(
            op["status"] == "running" and (branch_id is None or op["branch_id"] == branch_id)
            for op in project.operations
        )

    def _branch_record(
        self, project: Project, name: str, parent: Json | None, expires_at: str | None
    ) -> Json:
        now = _now()
        branch: Json = {
            "id": f"br-{_slug()}-{secrets.token_hex(4)}",
            "project_id": project.id,
            "name": name,
            "current_state": "init",
            "pending_state": "ready",
            "state_changed_at": now,
            "creation_source": "console",
            "default": parent is None,
            "protected": False,
            "cpu_used_sec": 0,
            "active_time_seconds": 0,
            "compute_time_seconds": 0,
            "written_data_bytes": 0,
            "data_transfer_bytes": 0,
            "created_at": now,
            "updated_at": now,
        }
        if parent is not None:
            branch["parent_id"] = parent["id"]
        if expires_at:
            branch["expires_at"] = expires_at
        return branch

    def _endpoint_record(self, project: Project, branch_id: str) -> Json:
        eid = f"ep-{_slug()}-{secrets.token_hex(4)}"
        now = _now()
        region = project.data["region_id"]
        return {
            "id": eid,
            "project_id": project.id,
            "branch_id": branch_id,
            "host": f"{eid}.{self._region_host(region)}",
            "region_id": region,
            "type": "read_write",
            "current_state": "init",
            "pending_state": "active",
            "pooler_enabled": True,
            "pooler_mode": "transaction",
            "disabled": False,
            "passwordless_access": True,
            "autoscaling_limit_min_cu": 0.25,
            "autoscaling_limit_max_cu": 2,
            "suspend_timeout_seconds": 0,
            "settings": {},
            "proxy_host": self._region_host(region),
            "provisioner": "k8s-neonvm",
            "creation_source": "console",
            "created_at": now,
            "updated_at": now,
        }

    def _add_branch(
        self, project: Project, name: str, parent: Json | None, expires_at: str | None
    ) -> tuple[Json, Json, list[Json]]:
        branch = self._branch_record(project, name, parent, expires_at)
        bid = branch["id"]
        endpoint = self._endpoint_record(project, bid)
        now = _now()
        if parent is None:
            role = f"neondb_owner_{project.number}"
            password = "npg_" + "".join(secrets.choice(self.password_alphabet) for _ in range(12))
            database = f"neondb_{project.number}"
            self.pg.create_owner(role, password, database)
            project.passwords[role] = password
            self.issued_passwords.append(password)
        else:
            parent_db = project.databases[parent["id"]][0]
            role = parent_db["owner_name"]
            database = f"{parent_db['name']}_{bid.rsplit('-', 1)[1]}"
            self.pg.copy_database(parent_db["name"], database, role)
        project.pg_databases.append(database)
        project.branches[bid] = branch
        project.endpoints[endpoint["id"]] = endpoint
        project.roles[bid] = [
            {"branch_id": bid, "name": role, "protected": False, "created_at": now,
             "updated_at": now}
        ]  # fmt: skip
        project.databases[bid] = [
            {"id": len(project.pg_databases), "branch_id": bid, "name": database,
             "owner_name": role, "created_at": now, "updated_at": now}
        ]  # fmt: skip
        ops = [
            self._operation(project, "create_branch" if parent else "create_timeline", bid, None),
            self._operation(project, "start_compute", bid, endpoint["id"]),
        ]
        return branch, endpoint, ops

    def uri(self, project: Project, branch_id: str, database: str, role: str, pooled: bool) -> str:
        endpoint = next(e for e in project.endpoints.values() if e["branch_id"] == branch_id)
        host = self._pooler(endpoint["host"]) if pooled else endpoint["host"]
        password = project.passwords[role]
        return (
            f"postgresql://{quote(role, safe='')}:{quote(password, safe='')}@{host}:"
            f"{self.pg.port}/{quote(database, safe='')}"
            f"?sslmode={self._sslmode}&hostaddr={self.pg.hostaddr}"
        )

    @staticmethod
    def _pooler(host: str) -> str:
        first, _, rest = host.partition(".")
        return f"{first}-pooler.{rest}"

    # -- API ---------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: Json, body: Json | None) -> tuple[int, Json]:
        with self.lock:
            for project in self.projects.values():
                self._refresh(project)
            parts = [p for p in path.split("/") if p]
            if parts == ["projects"]:
                if method == "GET":
                    return 200, self._list_projects(query)
                if method == "POST":
                    return 201, self._create_project(body or {})
            if parts == ["users", "me", "organizations"] and method == "GET":
                return 200, {"organizations": list(self.organizations)}
            if len(parts) < 2 or parts[0] != "projects":
                raise ApiError(404, f"unknown path {path}")
            project = self._project(parts[1])
            rest = parts[2:]
            if rest == [] and method == "GET":
                if project.unavailable_listings and project.unreadable:
                    raise ApiError(503, "project is temporarily unavailable")
                return 200, {"project": dict(project.data)}
            if rest == [] and method == "DELETE":
                self._refuse_if_busy(project)
                self._drop_pg(project)
                del self.projects[project.id]
                return 200, {"project": dict(project.data)}
            if rest == ["connection_uri"] and method == "GET":
                return 200, self._connection_uri(project, query)
            if rest == ["endpoints"] and method == "GET":
                return 200, {"endpoints": list(project.endpoints.values())}
            if rest == ["operations"] and method == "GET":
                return 200, self._list_operations(project, query)
            if len(rest) == 2 and rest[0] == "operations" and method == "GET":
                op = next((o for o in project.operations if o["id"] == rest[1]), None)
                if op is None:
                    raise ApiError(404, "operation not found")
                return 200, {"operation": self._operation_public(op)}
            if rest == ["branches"] and method == "GET":
                return 200, self._list_branches(project, query)
            if rest == ["branches"] and method == "POST":
                return 201, self._create_branch(project, body or {})
            if len(rest) >= 2 and rest[0] == "branches":
                branch = project.branches.get(rest[1])
                if branch is None:
                    raise ApiError(404, "branch not found")
                if len(rest) == 2 and method == "GET":
                    annotation = {"object": {"type": "console/branch", "id": branch["id"]},
                                  "value": {}}  # fmt: skip
                    return 200, {"branch": branch, "annotation": annotation}
                if len(rest) == 2 and method == "DELETE":
                    return 200, self._delete_branch(project, branch)
                if rest[2:] == ["restore"] and method == "POST":
                    return 200, self._restore_branch(project, branch, body or {})
                if rest[2:] == ["databases"] and method == "GET":
                    return 200, {"databases": project.databases[branch["id"]]}
                if rest[2:] == ["roles"] and method == "GET":
                    return 200, {"roles": project.roles[branch["id"]]}
            raise ApiError(404, f"unknown path {method} {path}")

    def _project(self, pid: str) -> Project:
        project = self.projects.get(pid)
        if project is None:
            raise ApiError(404, f"project {pid} not found")
        return project

    def _refuse_if_busy(self, project: Project) -> None:
        if self._running(project):
            raise ApiError(423, BUSY)

    @staticmethod
    def _limit(query: Json, default: int, maximum: int) -> int:
        try:
            limit = int(query.get("limit", default))
        except ValueError:
            raise ApiError(400, "invalid request: limit must be an integer") from None
        if not 1 <= limit <= maximum:
            raise ApiError(400, f"invalid request: limit must be between 1 and {maximum}")
        return limit

    def _list_projects(self, query: Json) -> Json:
        limit = self._limit(query, 10, 400)
        org_id = query.get("org_id")
        if self.require_org and not org_id:
            raise ApiError(400, ORG_REQUIRED)
        if org_id and not any(o["id"] == org_id for o in self.organizations):
            raise ApiError(404, f"organization {org_id} not found")
        search = query.get("search", "")
        items = sorted(self.projects.values(), key=lambda p: p.seq)
        items = [p for p in items if search in p.data["name"] or search in p.id]
        items = [p for p in items if p.data.get("org_id") == org_id]
        cursor = query.get("cursor")
        if cursor:
            ids = [p.id for p in items]
            items = items[ids.index(cursor) + 1 :] if cursor in ids else []
        page = items[:limit]
        unavailable = []
        readable = []
        for project in page:
            if project.unavailable_listings:
                project.unavailable_listings -= 1
                unavailable.append(project.id)
            else:
                readable.append(self._list_item(project))
        answer: Json = {"projects": readable, "applications": {}, "integrations": {}}
        if unavailable:
            answer["unavailable_project_ids"] = unavailable
        if page:  # the cursor is set even on the last page; the document wants it non-empty
            answer["pagination"] = {"cursor": page[-1].id}
        return answer

    def _list_branches(self, project: Project, query: Json) -> Json:
        branches = sorted(project.branches.values(), key=lambda b: b["created_at"])
        limit = self._limit(query, 10000, 10000)
        cursor = query.get("cursor")
        if cursor:
            ids = [b["id"] for b in branches]
            branches = branches[ids.index(cursor) + 1 :] if cursor in ids else []
        page = branches[:limit]
        pagination: Json = {"sort_by": "created_at", "sort_order": "asc"}
        if len(branches) > limit:
            pagination["next"] = page[-1]["id"]
        return {"branches": page, "annotations": {}, "pagination": pagination}

    def _list_operations(self, project: Project, query: Json) -> Json:
        limit = self._limit(query, 10, 1000)
        ops = sorted(project.operations, key=lambda o: o["created_at"], reverse=True)[:limit]
        answer: Json = {"operations": [self._operation_public(o) for o in ops]}
        if ops:
            answer["pagination"] = {"cursor": ops[-1]["id"]}
        return answer

    def _create_project(self, body: Json) -> Json:
        spec = body.get("project")
        if not isinstance(spec, dict):
            raise ApiError(
                400, "invalid request: decode application/json: invalid: project (field required)"
            )
        org_id = spec.get("org_id")
        if self.require_org and not org_id:
            raise ApiError(400, ORG_REQUIRED)
        if org_id and not any(o["id"] == org_id for o in self.organizations):
            raise ApiError(404, f"organization {org_id} not found")
        pg_version = int(spec.get("pg_version") or 17)
        if not 14 <= pg_version <= 18:
            raise ApiError(400, f"invalid request: pg_version {pg_version} is not supported")
        region = spec.get("region_id") or "aws-us-east-2"
        name = spec.get("name") or _slug()
        project = self._new_project_record(name, region, pg_version, org_id)
        try:
            branch, endpoint, ops = self._add_branch(project, "main", None, None)
        except Exception:
            del self.projects[project.id]
            self._drop_pg(project)
            raise
        role = project.roles[branch["id"]][0]
        database = project.databases[branch["id"]][0]
        uri = self.uri(project, branch["id"], database["name"], role["name"], pooled=False)
        return {
            "project": dict(project.data),
            "connection_uris": [
                {
                    "connection_uri": uri,
                    "connection_parameters": {
                        "database": database["name"],
                        "password": project.passwords[role["name"]],
                        "role": role["name"],
                        "host": endpoint["host"],
                        "pooler_host": self._pooler(endpoint["host"]),
                    },
                }
            ],
            "roles": [{**role, "password": project.passwords[role["name"]]}],
            "databases": [database],
            "operations": [self._operation_public(op) for op in ops],
            "branch": branch,
            "endpoints": [endpoint],
        }

    def _create_branch(self, project: Project, body: Json) -> Json:
        self._refuse_if_busy(project)
        spec = body.get("branch") or {}
        parent_id = spec.get("parent_id") or project.default_branch()["id"]
        parent = project.branches.get(parent_id)
        if parent is None:
            raise ApiError(404, f"parent branch {parent_id} not found")
        name = spec.get("name") or f"br-{_slug()}"
        if any(b["name"] == name for b in project.branches.values()):
            raise ApiError(409, f"branch {name} already exists")
        branch, endpoint, ops = self._add_branch(project, name, parent, spec.get("expires_at"))
        return {
            "branch": branch,
            "endpoints": [endpoint] if body.get("endpoints") else [],
            "operations": [self._operation_public(op) for op in ops],
            "roles": project.roles[branch["id"]],
            "databases": project.databases[branch["id"]],
        }

    def _delete_branch(self, project: Project, branch: Json) -> Json:
        self._refuse_if_busy(project)
        if branch["default"]:
            raise ApiError(400, "cannot delete the default branch")
        if any(b.get("parent_id") == branch["id"] for b in project.branches.values()):
            raise ApiError(400, "cannot delete a branch that has child branches")
        database = project.databases.pop(branch["id"])[0]["name"]
        self.pg.drop([database], [])
        project.pg_databases.remove(database)
        project.roles.pop(branch["id"])
        del project.branches[branch["id"]]
        for eid in [e for e, ep in project.endpoints.items() if ep["branch_id"] == branch["id"]]:
            del project.endpoints[eid]
        op = self._operation(project, "delete_timeline", branch["id"], None)
        return {"branch": branch, "operations": [self._operation_public(op)]}

    def _restore_branch(self, project: Project, branch: Json, body: Json) -> Json:
        """Restore to the head of `source_branch_id` (the only form scripts/neon uses)."""
        self._refuse_if_busy(project)
        source = project.branches.get(body.get("source_branch_id") or "")
        if source is None:
            raise ApiError(404, "source branch not found")
        if source["id"] == branch["id"]:
            raise ApiError(400, "restoring a branch onto itself needs a timestamp or an LSN")
        if "source_timestamp" in body or "source_lsn" in body:
            raise ApiError(400, "the emulator restores to the source's head only")
        children = [b for b in project.branches.values() if b.get("parent_id") == branch["id"]]
        preserve = body.get("preserve_under_name")
        if children and not preserve:
            raise ApiError(400, "branch has children: preserve_under_name is required to keep them")
        current = project.databases[branch["id"]][0]
        source_db = project.databases[source["id"]][0]["name"]
        if preserve:
            kept = self._branch_record(project, preserve, source, None)
            kept.pop("pending_state")
            kept["current_state"] = "ready"
            kept_db = f"{current['name']}_{kept['id'].rsplit('-', 1)[1]}"
            self.pg.rename_database(current["name"], kept_db)
            project.pg_databases.append(kept_db)
            project.branches[kept["id"]] = kept
            project.roles[kept["id"]] = [{**r, "branch_id": kept["id"]}
                                         for r in project.roles[branch["id"]]]  # fmt: skip
            project.databases[kept["id"]] = [{**current, "branch_id": kept["id"],
                                              "name": kept_db}]  # fmt: skip
            for child in children:
                child["parent_id"] = kept["id"]
        else:
            self.pg.drop([current["name"]], [])
        try:
            self.pg.copy_database(source_db, current["name"], current["owner_name"], exact=True)
        except RuntimeError as exc:
            raise ApiError(500, f"emulator: {exc}") from None
        now = _now()
        branch.update(current_state="resetting", pending_state="ready", state_changed_at=now,
                      updated_at=now, last_reset_at=now, parent_id=source["id"])  # fmt: skip
        endpoint = next(e for e in project.endpoints.values() if e["branch_id"] == branch["id"])
        ops = [
            self._operation(project, "create_timeline", branch["id"], None),
            self._operation(project, "start_compute", branch["id"], endpoint["id"]),
        ]
        return {"branch": branch, "operations": [self._operation_public(op) for op in ops]}

    def _connection_uri(self, project: Project, query: Json) -> Json:
        database, role = query.get("database_name"), query.get("role_name")
        if not database or not role:
            raise ApiError(400, "invalid request: database_name and role_name are required")
        branch_id = query.get("branch_id") or project.default_branch()["id"]
        if branch_id not in project.branches:
            raise ApiError(404, f"branch {branch_id} not found")
        if not any(d["name"] == database for d in project.databases[branch_id]):
            raise ApiError(404, f"database {database} not found")
        if not any(r["name"] == role for r in project.roles[branch_id]):
            raise ApiError(404, f"role {role} not found")
        pooled = query.get("pooled") == "true"
        return {"uri": self.uri(project, branch_id, database, role, pooled)}

    # -- HTTP glue ---------------------------------------------------------------------------

    def control(self, method: str, action: str, body: Json) -> tuple[int, Json]:
        if method == "GET" and action == "requests":
            return 200, {"requests": list(self.requests)}
        if method == "GET" and action == "violations":
            return 200, {"violations": list(self.violations)}
        if method != "POST":
            raise ApiError(405, "control endpoints take POST")
        if action == "faults":
            self.inject(**body)
        elif action == "slow":
            self.slow(float(body.get("seconds", 0)))
        elif action == "fail_operations":
            self.fail_operations(body["action"], body["error"])
        elif action == "reset":
            self.reset()
        else:
            raise ApiError(404, f"unknown control {action}")
        return 200, {"ok": True}

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    return fault
        return None

    def record_violations(self, problems: list[str]) -> None:
        if problems:
            with self.lock:
                self.violations.extend(problems)


def main() -> None:
    """Standalone: serve until SIGTERM/SIGINT; the first stdout line is the base URL."""
    import signal

    admin_url = os.environ.get("NEON_EMULATOR_ADMIN_URL")
    if not admin_url:
        sys.exit("set NEON_EMULATOR_ADMIN_URL to a superuser URL of a loopback Postgres")
    emulator = NeonEmulator(
        admin_url,
        api_key=os.environ.get("NEON_EMULATOR_API_KEY", DEFAULT_KEY),
        op_seconds=float(os.environ.get("NEON_EMULATOR_OP_SECONDS", "0.3")),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        print(emulator.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
