"""The Kubernetes manifests: rendered from one source of values, valid against the API schemas.

No cluster is reachable here, so the rendered objects are checked offline against the
Kubernetes OpenAPI schemas (kubernetes-validate, strict: unknown fields fail too).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import ValidationError

from aido.core.config import Settings

K8S_DIR = Path(__file__).resolve().parents[3] / "deploy" / "k8s"
# The oldest release the manifests are meant for, and the newest the package knows.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")


def _load_renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8s_render", K8S_DIR / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _load_renderer()


def objects(*sets: str, file: str = "aido-backend.yaml") -> dict[str, dict[str, Any]]:
    """The rendered objects by kind, with `sets` applied as `--set` would."""
    text = render.render(render.load_values([], list(sets)))[file]
    return {doc["kind"]: doc for doc in yaml.safe_load_all(text) if doc}


def backend_container(deployment: dict[str, Any]) -> dict[str, Any]:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def test_the_committed_manifests_are_rendered_from_values_toml() -> None:
    rendered = render.render(render.load_values([], []))
    for name, text in rendered.items():
        assert (K8S_DIR / "rendered" / name).read_text() == text, (
            f"rendered/{name} is out of date: run deploy/k8s/render.py"
        )


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_passes_the_kubernetes_schemas(version: str) -> None:
    for path in sorted((K8S_DIR / "rendered").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            kubernetes_validate.validate(doc, version, strict=True)


def test_the_bundle_has_every_object_the_backend_needs() -> None:
    assert set(objects()) == {
        "ServiceAccount", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler",
        "PodDisruptionBudget", "NetworkPolicy", "Ingress",
    }  # fmt: skip


def test_the_deployment_probes_secrets_and_migrations() -> None:
    deployment = objects()["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    container = backend_container(deployment)
    assert "replicas" not in deployment["spec"]  # the HPA owns it
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    from_secret = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert {name: ref["name"] for name, ref in from_secret.items()} == dict.fromkeys(
        render.SECRET_KEYS + render.OPTIONAL_SECRET_KEYS, "aido-backend"
    )
    # A Secret without METRICS_TOKEN still starts the pods (without /metrics).
    assert [n for n, ref in from_secret.items() if ref.get("optional")] == ["METRICS_TOKEN"]
    [migrate] = pod["initContainers"]
    assert migrate["command"] == render.MIGRATE_COMMAND == ["python", "-m", "aido", "migrate"]
    assert migrate["image"] == container["image"]
    assert {e["name"] for e in migrate["env"]} == {"DATABASE_URL", "DATABASE_DIRECT_URL"}
    assert pod["terminationGracePeriodSeconds"] > render.PRESTOP_SECONDS
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"


def test_pods_run_as_the_image_user_without_privileges_on_a_read_only_root() -> None:
    pod = objects()["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"] + pod["initContainers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_a_changed_value_shows_up_where_it_is_used() -> None:
    before = objects()
    after = objects(
        "image.tag=2.0.1", "namespace=todo-prod", "scaling.min_replicas=3",
        "config.DB_CONNECT_TIMEOUT=20", "resources.limits_memory=1Gi",
    )  # fmt: skip
    deployment = after["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    assert {c["image"] for c in pod["containers"] + pod["initContainers"]} == {
        "registry.example.com/aido-backend:2.0.1"
    }
    assert {obj["metadata"]["namespace"] for obj in after.values()} == {"todo-prod"}
    assert after["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    assert after["ConfigMap"]["data"]["DB_CONNECT_TIMEOUT"] == "20"
    # /health answers within DB_CONNECT_TIMEOUT + 1 s: the probe waits a little longer.
    assert backend_container(deployment)["readinessProbe"]["timeoutSeconds"] == 22
    assert backend_container(deployment)["resources"]["limits"]["memory"] == "1Gi"
    # A config change rolls the pods; the image alone would not change the checksum.
    checksum = "aido-todo/config-checksum"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert (
        annotations[checksum]
        != (before["Deployment"]["spec"]["template"]["metadata"]["annotations"][checksum])
    )
    for doc in after.values():
        kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)


def test_pods_log_json_and_are_scraped_from_the_monitoring_namespace() -> None:
    kinds = objects()
    assert kinds["ConfigMap"]["data"]["LOG_FORMAT"] == "json"
    annotations = kinds["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == "8000"
    [rule] = kinds["NetworkPolicy"]["spec"]["ingress"]
    allowed = [p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for p in rule["from"]]  # fmt: skip
    assert allowed == ["ingress-nginx", "monitoring"]

    off = objects("metrics.enabled=false")
    off_annotations = off["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert not any(k.startswith("prometheus.io/") for k in off_annotations)
    [rule] = off["NetworkPolicy"]["spec"]["ingress"]
    assert len(rule["from"]) == 1


def test_ingress_and_network_policy_can_be_left_out() -> None:
    kinds = objects("ingress.enabled=false", "network_policy.enabled=false")
    assert "Ingress" not in kinds and "NetworkPolicy" not in kinds


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("scaling.min_replica=3", "scaling.min_replica: no such value"),
        ("scaling.min_replicas=two", "scaling.min_replicas: must be a int"),
        ("config.api_port=1", "settings are upper-case"),
        ("config.JWT_SECRET=x", "config.JWT_SECRET: set by the manifests themselves"),
    ],
)
def test_a_value_that_does_not_exist_or_fit_is_refused(assignment: str, message: str) -> None:
    with pytest.raises(render.ValuesError, match=message):
        objects(assignment)


def test_the_secret_example_holds_no_secret_the_app_would_accept() -> None:
    secret = objects(file="secret.example.yaml")["Secret"]["stringData"]
    assert set(secret) == set(render.SECRET_KEYS + render.OPTIONAL_SECRET_KEYS)
    assert "-pooler." in secret["DATABASE_URL"]
    assert "-pooler." not in secret["DATABASE_DIRECT_URL"]
    for key in ("JWT_SECRET", "METRICS_TOKEN"):
        with pytest.raises(ValidationError, match=key):
            Settings(DATABASE_URL=secret["DATABASE_URL"], **{key: secret[key]},
                     _env_file=None)  # fmt: skip
