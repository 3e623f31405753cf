#!/usr/bin/env python3
"""Render the backend's Kubernetes manifests from values.toml (standard library only).

    python3 deploy/k8s/render.py                      # writes deploy/k8s/rendered/
    python3 deploy/k8s/render.py --values prod.toml --set image.tag=1.4.2 --out /tmp/aido
    python3 deploy/k8s/render.py --check              # exit 1 if rendered/ is out of date

rendered/aido-backend.yaml is every object of the backend; rendered/secret.example.yaml shows
the Secret you create yourself (placeholders only, refused by the app if applied as is).
Each object is built here, in Python, so values that depend on each other (probe timeouts on
DB_CONNECT_TIMEOUT, a rollout on any config change) cannot drift apart.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_VALUES = HERE / "values.toml"
DEFAULT_OUT = HERE / "rendered"
BUNDLE, SECRET_EXAMPLE = "aido-backend.yaml", "secret.example.yaml"
CONTAINER_PORT = 8000
UID = 10001  # the image's aido user (Dockerfile)
# Settings every pod gets whatever the values say: the image listens on all interfaces.
FIXED_ENV = {"API_HOST": "0.0.0.0", "API_PORT": str(CONTAINER_PORT)}  # noqa: S104
SECRET_KEYS = ("DATABASE_URL", "DATABASE_DIRECT_URL", "JWT_SECRET")
# In the Secret when /metrics is to be served (README, Operations); optional: without it the
# pods start, and /metrics is not served.
OPTIONAL_SECRET_KEYS = ("METRICS_TOKEN",)
# The image's own entry point: waits for the database (DB_STARTUP_TIMEOUT, each attempt
# logged), migrates the direct host to head under the same advisory lock as the app's
# start-up, says in one log line what it applied, then exits (3, in one line, if it cannot).
MIGRATE_COMMAND = ["python", "-m", "aido", "migrate"]
METRICS_PATH = "/metrics"
PRESTOP_SECONDS = 5
GRACE_SECONDS = 30

Values = dict[str, Any]
Manifest = dict[str, Any]


class ValuesError(Exception):
    """One line naming the value and what is wrong with it."""


# --- values -----------------------------------------------------------------------------------


def merge(base: Values, override: Values, path: str = "") -> Values:
    """`override` over `base`, key by key; a key `base` lacks is refused (outside [config])."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}{key}"
        if path == "config.":
            if not key.isupper():
                raise ValuesError(f"config.{key}: settings are upper-case environment names")
            merged[key] = value
        elif key not in base:
            raise ValuesError(f"{where}: no such value (see {DEFAULT_VALUES.name})")
        elif isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ValuesError(f"{where}: must be a table")
            merged[key] = merge(base[key], value, f"{where}.")
        else:
            if isinstance(value, dict) or type(value) is not type(base[key]):
                raise ValuesError(f"{where}: must be a {type(base[key]).__name__}")
            merged[key] = value
    return merged


def parse_set(assignment: str) -> Values:
    """`a.b=value` as {"a": {"b": value}}; the value is read as TOML when it parses (numbers,
    booleans, quoted strings), else taken as a string."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key:
        raise ValuesError(f"--set {assignment!r}: expected key.path=value")
    try:
        value: Any = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    for part in reversed(key.split(".")):
        value = {part: value}
    assert isinstance(value, dict)
    return value


def load_values(files: list[Path], sets: list[str]) -> Values:
    values = tomllib.loads(DEFAULT_VALUES.read_text())
    for path in files:
        try:
            values = merge(values, tomllib.loads(path.read_text()))
        except tomllib.TOMLDecodeError as exc:
            raise ValuesError(f"{path}: {exc}") from None
    for assignment in sets:
        values = merge(values, parse_set(assignment))
    return values


# --- objects ----------------------------------------------------------------------------------


def labels(v: Values) -> dict[str, str]:
    return {"app.kubernetes.io/name": v["name"], "app.kubernetes.io/part-of": "aido-todo"}


def meta(v: Values, name: str | None = None) -> dict[str, Any]:
    return {
        "name": name or v["name"],
        "namespace": v["namespace"],
        "labels": {**labels(v), "app.kubernetes.io/component": "backend"},
    }


def config_data(v: Values) -> dict[str, str]:
    env = {
        k: str(val).lower() if isinstance(val, bool) else str(val) for k, val in v["config"].items()
    }
    clash = sorted(set(env) & (set(FIXED_ENV) | set(SECRET_KEYS)))
    if clash:
        raise ValuesError(f"config.{clash[0]}: set by the manifests themselves (or the Secret)")
    return {**dict(sorted(env.items())), **FIXED_ENV}


def secret_env(
    v: Values, keys: tuple[str, ...], optional: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    def ref(key: str, **extra: Any) -> dict[str, Any]:
        return {"name": key, "valueFrom": {"secretKeyRef": {"name": v["secret"]["name"],
                                                            "key": key, **extra}}}  # fmt: skip

    return [ref(key) for key in keys] + [ref(key, optional=True) for key in optional]


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,  # the app writes nothing but /tmp (an emptyDir)
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "capabilities": {"drop": ["ALL"]},
    }


def resources(r: Values) -> dict[str, Any]:
    return {
        "requests": {"cpu": r["requests_cpu"], "memory": r["requests_memory"]},
        "limits": {"cpu": r["limits_cpu"], "memory": r["limits_memory"]},
    }


def probe(path: str, *, period: int, timeout: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


def deployment(v: Values, config: dict[str, str]) -> Manifest:
    image = f"{v['image']['repository']}:{v['image']['tag']}"
    connect_timeout = int(config.get("DB_CONNECT_TIMEOUT", "10"))
    startup_timeout = float(config.get("DB_STARTUP_TIMEOUT", "60"))
    config_env = [{"configMapRef": {"name": f"{v['name']}-config"}}]
    tmp = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108 - an emptyDir, the only writable path
    checksum = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    selector = labels(v)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(v),
        "spec": {
            # No `replicas`: the HorizontalPodAutoscaler owns the count.
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": {**selector, "app.kubernetes.io/component": "backend"},
                    # A changed ConfigMap rolls the pods (they read it only at start).
                    "annotations": {
                        "aido-todo/config-checksum": checksum,
                        **scrape_annotations(v),
                    },
                },
                "spec": {
                    "serviceAccountName": v["name"],
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": GRACE_SECONDS,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": key,
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector},
                        }
                        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
                    ],
                    "initContainers": [
                        {
                            "name": "migrate",
                            "image": image,
                            "imagePullPolicy": v["image"]["pull_policy"],
                            "command": MIGRATE_COMMAND,
                            "envFrom": config_env,
                            "env": secret_env(v, ("DATABASE_URL", "DATABASE_DIRECT_URL")),
                            "resources": resources(v["migrations"]),
                            "securityContext": container_security(),
                            "volumeMounts": tmp,
                        }
                    ],
                    "containers": [
                        {
                            "name": "backend",
                            "image": image,
                            "imagePullPolicy": v["image"]["pull_policy"],
                            "ports": [
                                {"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}
                            ],
                            "envFrom": config_env,
                            "env": secret_env(v, SECRET_KEYS, OPTIONAL_SECRET_KEYS),
                            "resources": resources(v["resources"]),
                            # Start-up waits up to DB_STARTUP_TIMEOUT for the database before it
                            # listens; liveness only starts counting after that.
                            "startupProbe": probe(
                                "/health/live",
                                period=2,
                                timeout=2,
                                failures=math.ceil((startup_timeout + 30) / 2),
                            ),  # fmt: skip
                            "livenessProbe": probe(
                                "/health/live", period=10, timeout=3, failures=3
                            ),
                            # /health answers within DB_CONNECT_TIMEOUT + 1 s, 503 when the
                            # database does not answer: the pod then takes no traffic.
                            "readinessProbe": probe(
                                "/health", period=5, timeout=connect_timeout + 2, failures=3
                            ),
                            # Keep serving while the endpoint removal reaches every proxy,
                            # then uvicorn's SIGTERM drain finishes the requests in flight.
                            "lifecycle": {
                                "preStop": {"exec": {"command": ["sleep", str(PRESTOP_SECONDS)]}}
                            },
                            "securityContext": container_security(),
                            "volumeMounts": tmp,
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }


def scrape_annotations(v: Values) -> dict[str, str]:
    """The common `prometheus.io/*` pod annotations, which a Prometheus `kubernetes_sd` job
    can select pods by (README, Operations: it must also send METRICS_TOKEN as a bearer)."""
    if not v["metrics"]["enabled"]:
        return {}
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/path": METRICS_PATH,
        "prometheus.io/port": str(CONTAINER_PORT),
    }


def network_policy(v: Values) -> Manifest:
    """Only the ingress controller connects to the pods, and the scraper's namespace when
    metrics are on (the pods' own /metrics, never through the ingress)."""
    namespaces = [v["network_policy"]["ingress_namespace"]]
    if v["metrics"]["enabled"]:
        namespaces.append(v["metrics"]["scraper_namespace"])
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(v),
        "spec": {
            "podSelector": {"matchLabels": labels(v)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {
                            "kubernetes.io/metadata.name": namespace}}}
                        for namespace in namespaces
                    ],
                    "ports": [{"protocol": "TCP", "port": CONTAINER_PORT}],
                }
            ],
        },
    }  # fmt: skip


def bundle(v: Values) -> list[tuple[str, Manifest]]:
    """(why, object) for every object of the backend, in apply order."""
    config = config_data(v)
    name = v["name"]
    objects: list[tuple[str, Manifest]] = [
        (
            "Its own identity, with no API token mounted: the app never calls the Kubernetes API.",
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": meta(v),
                "automountServiceAccountToken": False,
            },
        ),  # fmt: skip
        (
            "The app's plain settings (values.toml [config]); secrets are in the Secret.",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": meta(v, f"{name}-config"),
                "data": config,
            },
        ),  # fmt: skip
        (
            "The backend. An init container migrates to head on the direct database host "
            "before the app starts (under the advisory lock, so pods starting together "
            "migrate once); the app's own start-up check then finds the schema ready.",
            deployment(v, config),
        ),
        (
            "A stable address for the pods that are ready (/health).",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": meta(v),
                "spec": {
                    "type": "ClusterIP",
                    "selector": labels(v),
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                },
            },
        ),
        (
            "Replicas follow CPU load; scale-in waits 5 minutes of lower load.",
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": meta(v),
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": v["scaling"]["min_replicas"],
                    "maxReplicas": v["scaling"]["max_replicas"],
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {
                                    "type": "Utilization",
                                    "averageUtilization": v["scaling"]["target_cpu_percent"],
                                },
                            },
                        }
                    ],
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
                },
            },
        ),
        (
            "Node drains and cluster upgrades take pods down a few at a time.",
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": meta(v),
                "spec": {
                    "maxUnavailable": v["scaling"]["max_unavailable"],
                    "selector": {"matchLabels": labels(v)},
                },
            },
        ),
    ]
    if v["network_policy"]["enabled"]:
        objects.append(
            (
                "Only the ingress controller connects to the pods (the address it forwards "
                "is trusted), and the metrics scraper's namespace when metrics are on; "
                "outgoing traffic (Neon, DNS) is not restricted.",
                network_policy(v),
            )
        )
    if v["ingress"]["enabled"]:
        host = v["ingress"]["host"]
        objects.append(
            (
                "The way in: TLS at the ingress controller, then the Service.",
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "Ingress",
                    "metadata": meta(v),
                    "spec": {
                        "ingressClassName": v["ingress"]["class_name"],
                        "tls": [{"hosts": [host], "secretName": v["ingress"]["tls_secret"]}],
                        "rules": [
                            {
                                "host": host,
                                "http": {
                                    "paths": [
                                        {
                                            "path": "/",
                                            "pathType": "Prefix",
                                            "backend": {
                                                "service": {
                                                    "name": name,
                                                    "port": {"name": "http"},
                                                }
                                            },
                                        }
                                    ]
                                },
                            }
                        ],
                    },
                },
            )
        )
    return objects


def secret_example(v: Values) -> list[tuple[str, Manifest]]:
    # Placeholders the app refuses (a JWT_SECRET under 32 bytes stops start-up), so applying
    # this file unedited fails loudly instead of running with a public secret.
    return [
        (
            "EXAMPLE ONLY, never commit real values. Create it from scripts/neon's env file:\n"
            f"  kubectl -n {v['namespace']} create secret generic {v['secret']['name']} \\\n"
            "    --from-env-file=.env.neon \\\n"
            '    --from-literal=JWT_SECRET="$(python3 -c '
            "'import secrets; print(secrets.token_urlsafe(48))')\" \\\n"
            '    --from-literal=METRICS_TOKEN="$(python3 -c '
            "'import secrets; print(secrets.token_urlsafe(32))')\"",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": meta(v, v["secret"]["name"]),
                "stringData": {
                    "DATABASE_URL": "postgresql+psycopg://USER:PASSWORD@ep-NAME-pooler.REGION"
                    ".aws.neon.tech/neondb?sslmode=require&channel_binding=require",
                    "DATABASE_DIRECT_URL": "postgresql+psycopg://USER:PASSWORD@ep-NAME.REGION"
                    ".aws.neon.tech/neondb?sslmode=require&channel_binding=require",
                    "JWT_SECRET": "REPLACE-ME",
                    # Optional: /metrics is served only with it (32+ bytes).
                    "METRICS_TOKEN": "REPLACE-ME",
                },
            },
        )
    ]


# --- YAML -------------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML string


def _emit(value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(_emit(item, indent + (1 if isinstance(item, dict) else 0)))
            else:
                empty = "{}" if isinstance(item, dict) else "[]"
                lines.append(
                    f"{pad}{key}: {empty if isinstance(item, dict | list) else _scalar(item)}"
                )
    else:
        for item in value:
            if isinstance(item, dict | list) and item:
                inner = _emit(item, indent + 1)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return lines


def to_yaml(objects: list[tuple[str, Manifest]]) -> str:
    header = "# Rendered by deploy/k8s/render.py from values.toml: edit those, not this file.\n"
    docs = []
    for why, obj in objects:
        # Prose is wrapped; indented lines (commands) are kept whole.
        wrapped = [
            w
            for line in why.splitlines()
            for w in ([line] if line.startswith(" ") else textwrap.wrap(line, 94))
        ]
        comment = "\n".join(f"# {line}".rstrip() for line in wrapped)
        docs.append(f"---\n{comment}\n" + "\n".join(_emit(obj, 0)) + "\n")
    return header + "".join(docs)


def render(values: Values) -> dict[str, str]:
    return {BUNDLE: to_yaml(bundle(values)), SECRET_EXAMPLE: to_yaml(secret_example(values))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=Path, action="append", default=[], metavar="FILE")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare with --out, write nothing")
    args = parser.parse_args(argv)
    try:
        rendered = render(load_values(args.values, args.set))
    except ValuesError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = [n for n, text in rendered.items() if not (args.out / n).is_file()
                 or (args.out / n).read_text() != text]  # fmt: skip
        if stale:
            print(
                f"render: {', '.join(stale)} out of date: run deploy/k8s/render.py", file=sys.stderr
            )
            return 1
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (args.out / name).write_text(text)
        print(f"render: wrote {args.out / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
