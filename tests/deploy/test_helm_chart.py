"""helm/gateway rendered without a cluster: lint, Kubernetes 1.30 schemas, and the properties a
production deployment relies on (hardening, probes, scaling, hooks, network policy, secrets),
for the chart's defaults and for values-production.yaml. Also the Dockerfile the chart runs."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import re
import shlex
import tomllib
from typing import Any

import helm_python
import kubernetes_validate
import pytest

from tests.deploy.chart import (
    CHART,
    KUBE_VERSION,
    MINIMUM,
    NAMESPACE,
    RELEASE,
    ROOT,
    Rendered,
    chart_metadata,
    containers,
    fullname,
    lint,
    merged,
    production_values,
    render,
)

PRODUCTION = production_values()
VALUES = {"default": MINIMUM, "production": PRODUCTION}
SECRET_LOOKING = re.compile(r"DATABASE_URL|PASSWORD|TOKEN|SECRET", re.IGNORECASE)
# The pods bind every interface, and /tmp is their emptyDir (the root filesystem is read-only).
ANY_ADDRESS = "0.0.0.0"  # noqa: S104
TMP = "/tmp"  # noqa: S108
SERVE = ["serve", "--host", ANY_ADDRESS, "--port", "8000"]
STANDARD_LABELS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
}


@pytest.fixture(params=sorted(VALUES), scope="module")
def case(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param, VALUES[request.param]


@pytest.fixture(scope="module")
def release(case: tuple[str, dict[str, Any]]) -> Rendered:
    return render(case[1])


@functools.cache
def chart_defaults() -> dict[str, Any]:
    with helm_python.Chart.load(CHART) as chart:
        return chart.merge_values(MINIMUM)


def effective(values: dict[str, Any]) -> dict[str, Any]:
    """The values a release uses: the chart's defaults under the given ones."""
    return merged(chart_defaults(), values)


def container(release: Rendered, component: str, name: str) -> dict[str, Any]:
    pod = release.workload(component)["spec"]["template"]["spec"]
    found = [c for c in containers(pod) if c["name"] == name]
    assert len(found) == 1, f"{component} has no single container {name}"
    return found[0]


def env_of(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in c.get("env", [])}


# --- lint and schemas -------------------------------------------------------------------------


def test_lint_is_clean_even_when_strict(case: tuple[str, dict[str, Any]]) -> None:
    report = lint(case[1], strict=True)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [], report
    assert problems == [], problems
    assert report["total_charts_linted"] == 1


def test_every_manifest_is_valid_kubernetes(release: Rendered) -> None:
    kinds = set()
    for doc in release.documents:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            version = kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{where} is not valid Kubernetes {KUBE_VERSION}: {path}: {exc.message}")
        assert version == KUBE_VERSION
        assert doc["metadata"]["namespace"] == NAMESPACE, where
        kinds.add(doc["kind"])
    assert {
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    } <= kinds


def test_a_broken_manifest_is_caught_by_the_validator(release: Rendered) -> None:
    deployment = json.loads(json.dumps(release.workload("api")))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    deployment["spec"]["template"]["spec"]["containers"][0]["portz"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)


def test_every_object_has_the_standard_labels(release: Rendered) -> None:
    app_version = chart_metadata()["appVersion"]
    for doc in release.documents:
        labels = doc["metadata"]["labels"]
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        assert labels.keys() >= STANDARD_LABELS, where
        assert labels["app.kubernetes.io/instance"] == RELEASE, where
        assert labels["app.kubernetes.io/managed-by"] == "Helm", where
        assert labels["app.kubernetes.io/version"] == app_version, where
        assert labels["helm.sh/chart"] == f"gateway-{chart_metadata()['version']}", where
    for component in ("api", "worker", "migrate"):
        workload = release.workload(component)
        pod_labels = workload["spec"]["template"]["metadata"]["labels"]
        assert pod_labels["app.kubernetes.io/component"] == component
        assert pod_labels.keys() >= STANDARD_LABELS


def test_schema_accepts_both_value_files_and_refuses_mistakes() -> None:
    with helm_python.Chart.load(CHART) as chart:
        chart.validate_schema(MINIMUM)
        chart.validate_schema(PRODUCTION)
        refused = {
            "unknown top-level key": {**MINIMUM, "replicaCount": 3},
            "replicas as a word": {**MINIMUM, "api": {"replicas": "three"}},
            "unknown nested key": {**MINIMUM, "worker": {"replica": 2}},
            "pull policy outside its enum": {**MINIMUM, "image": {"pullPolicy": "Sometimes"}},
            "a secret in config.extra": {
                **MINIMUM,
                "config": {"extra": {"GATEWAY_MOSAIC_PASSWORD": "hunter2"}},
            },
            "an unquoted number in config.extra": {
                **MINIMUM,
                "config": {"extra": {"GATEWAY_MAX_FEED_BYTES": 209715200}},
            },
            "a setting the chart owns in config.extra": {
                **MINIMUM,
                "config": {"extra": {"GATEWAY_WEB_CONCURRENCY": "4"}},
            },
            "a trusted proxy named by its host name": {
                **MINIMUM,
                "config": {"trustedProxies": ["ingress-nginx-controller"]},
            },
            "root allowed": {**MINIMUM, "securityContext": {"runAsNonRoot": False}},
            "writable root filesystem": {
                **MINIMUM,
                "securityContext": {"readOnlyRootFilesystem": False},
            },
            "a client scope that does not exist": {
                **MINIMUM,
                "clients": [
                    {"name": "x", "scopes": ["everything"], "secretName": "s", "secretKey": "k"}
                ],
            },
            "a client without its token secret": {
                **MINIMUM,
                "clients": [{"name": "x", "scopes": ["metrics"]}],
            },
            "an endpoint without a CIDR": {
                **MINIMUM,
                "networkPolicy": {"egress": {"endpoints": [{"name": "nhs", "port": 443}]}},
            },
            "an empty peer that admits everyone": {
                **MINIMUM,
                "networkPolicy": {"ingress": {"apiFrom": [{}]}},
            },
        }
        accepted = []
        for why, values in refused.items():
            try:
                chart.validate_schema(values)
            except helm_python.HelmValuesError:
                continue
            accepted.append(why)
        schema = chart.schema
    assert accepted == []
    assert schema is not None
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["additionalProperties"] is False
    assert {"database", "api", "worker"} <= set(schema["required"])


def test_render_refuses_values_the_schema_refuses() -> None:
    with pytest.raises(helm_python.HelmValuesError, match="replicaCount"):
        render({**MINIMUM, "replicaCount": 3})
    with pytest.raises(helm_python.HelmValuesError, match="replicas"):
        render(merged(MINIMUM, {"api": {"replicas": "three"}}))


@pytest.mark.parametrize("database", [None, {"existingSecret": ""}])
def test_render_fails_without_the_database_secret(database: dict[str, str] | None) -> None:
    values = {} if database is None else {"database": database}
    with pytest.raises(helm_python.HelmRenderError, match=r"database\.existingSecret is required"):
        render(values)


# --- workloads --------------------------------------------------------------------------------


def test_api_and_worker_are_separately_scalable(case: tuple[str, dict[str, Any]]) -> None:
    values = effective(case[1])
    release = render(case[1])
    api, worker = release.workload("api"), release.workload("worker")
    assert api["kind"] == worker["kind"] == "Deployment"
    assert api["metadata"]["name"] == fullname()
    assert worker["metadata"]["name"] == f"{fullname()}-worker"
    assert api["spec"]["selector"] != worker["spec"]["selector"]
    assert worker["spec"]["replicas"] == values["worker"]["replicas"]
    # With the HPA on it owns the API's replica count, so the Deployment leaves it unset.
    assert values["api"]["autoscaling"]["enabled"] is True
    assert "replicas" not in api["spec"]

    fixed = render(
        merged(case[1], {"api": {"replicas": 4, "autoscaling": {"enabled": False}}})
        | {"worker": merged(values["worker"], {"replicas": 3})}
    )
    assert fixed.workload("api")["spec"]["replicas"] == 4
    assert fixed.workload("worker")["spec"]["replicas"] == 3
    assert fixed.of_kind("HorizontalPodAutoscaler") == []


def test_production_scale() -> None:
    release = render(PRODUCTION)
    hpa = release.get("HorizontalPodAutoscaler", fullname())["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    assert release.workload("worker")["spec"]["replicas"] == 2
    assert PRODUCTION["api"]["replicas"] == 3


def test_hpa_targets_the_api_deployment(case: tuple[str, dict[str, Any]]) -> None:
    values = effective(case[1])["api"]["autoscaling"]
    release = render(case[1])
    hpa = release.get("HorizontalPodAutoscaler", fullname())
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": release.workload("api")["metadata"]["name"],
    }
    assert hpa["spec"]["minReplicas"] == values["minReplicas"]
    assert hpa["spec"]["maxReplicas"] == values["maxReplicas"]
    cpu = [m for m in hpa["spec"]["metrics"] if m["resource"]["name"] == "cpu"]
    assert cpu[0]["resource"]["target"] == {
        "type": "Utilization",
        "averageUtilization": values["targetCPUUtilizationPercentage"],
    }


def test_api_probes_use_the_health_endpoints_on_the_named_port(release: Rendered) -> None:
    api = container(release, "api", "api")
    assert api["args"] == SERVE
    assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in api["ports"]
    expected = {
        "startupProbe": "/health/live",
        "livenessProbe": "/health/live",
        "readinessProbe": "/health/ready",
    }
    for probe, path in expected.items():
        assert api[probe]["httpGet"] == {"path": path, "port": "http"}, probe
        assert api[probe]["periodSeconds"] >= 1
    assert api["startupProbe"]["failureThreshold"] * api["startupProbe"]["periodSeconds"] >= 30


def test_worker_probes_its_health_port(release: Rendered) -> None:
    worker = container(release, "worker", "worker")
    assert worker["args"] == ["worker"]
    assert worker["ports"] == [{"name": "health", "containerPort": 8001, "protocol": "TCP"}]
    for probe in ("livenessProbe", "readinessProbe"):
        assert worker[probe]["httpGet"] == {"path": "/health/live", "port": "health"}
    assert release.config()["GATEWAY_WORKER_HEALTH_PORT"] == "8001"


def test_shutdown_is_graceful(case: tuple[str, dict[str, Any]], release: Rendered) -> None:
    api_pod = release.workload("api")["spec"]["template"]["spec"]
    worker_pod = release.workload("worker")["spec"]["template"]["spec"]
    sleep = container(release, "api", "api")["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = float(release.config()["GATEWAY_SHUTDOWN_GRACE_SECONDS"])
    values = effective(case[1])
    assert sleep == values["api"]["preStopSleepSeconds"]
    assert grace == values["config"]["shutdownGraceSeconds"]
    # preStop sleep, then the app's own drain, must both fit before the SIGKILL.
    assert sleep + grace < api_pod["terminationGracePeriodSeconds"]
    assert api_pod["terminationGracePeriodSeconds"] >= 30
    assert worker_pod["terminationGracePeriodSeconds"] >= 60


def test_every_pod_is_hardened_and_bounded(release: Rendered) -> None:
    pods = dict(release.pod_specs())
    assert len(pods) == 3
    image = release.workload("api")["spec"]["template"]["spec"]["containers"][0]["image"]
    for where, pod in pods.items():
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True, where
        assert security["runAsUser"] == security["runAsGroup"] == security["fsGroup"] == 10001
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert pod["automountServiceAccountToken"] is False, where
        tmp = {v["name"]: v for v in pod["volumes"]}["tmp"]
        assert tmp["emptyDir"]["sizeLimit"], where
        for c in containers(pod):
            at = f"{where} container {c['name']}"
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, at
            assert sc["runAsUser"] != 0, at
            assert sc["readOnlyRootFilesystem"] is True, at
            assert sc["allowPrivilegeEscalation"] is False, at
            assert sc["privileged"] is False, at
            assert sc["capabilities"] == {"drop": ["ALL"]}, at
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, at
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= c["resources"][bound].keys(), at
            assert {"name": "tmp", "mountPath": TMP} in c["volumeMounts"], at
            assert env_of(c)["HOME"]["value"] == TMP, at
            assert c["image"] == image, at


def test_tmp_volume_defaults_to_one_gibibyte() -> None:
    pod = render(MINIMUM).workload("worker")["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}]
    bigger = render(merged(MINIMUM, {"tmp": {"sizeLimit": "3Gi"}}))
    for _, spec in bigger.pod_specs():
        assert spec["volumes"][0]["emptyDir"]["sizeLimit"] == "3Gi"


def test_image_defaults_to_the_app_version() -> None:
    meta = chart_metadata()
    image = f"ghcr.io/s19-gateway/gateway:{meta['appVersion']}"
    for _, pod in render(MINIMUM).pod_specs():
        assert {c["image"] for c in containers(pod)} == {image}
        assert {c["imagePullPolicy"] for c in containers(pod)} == {"IfNotPresent"}
    pinned = render(merged(MINIMUM, {"image": {"tag": "0.2.0-rc1", "pullPolicy": "Always"}}))
    api = pinned.workload("api")["spec"]["template"]["spec"]["containers"][0]
    assert (api["image"], api["imagePullPolicy"]) == (
        "ghcr.io/s19-gateway/gateway:0.2.0-rc1",
        "Always",
    )
    digest = "sha256:" + "ab" * 32
    by_digest = render(merged(MINIMUM, {"image": {"digest": digest}}))
    api = by_digest.workload("api")["spec"]["template"]["spec"]["containers"][0]
    assert api["image"] == f"ghcr.io/s19-gateway/gateway@{digest}"


def test_production_pods_pull_with_the_registry_secret() -> None:
    for where, pod in render(PRODUCTION).pod_specs():
        assert pod["imagePullSecrets"] == [{"name": "ghcr-pull"}], where


def test_app_version_is_the_project_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    meta = chart_metadata()
    assert meta["apiVersion"] == "v2"
    assert meta["appVersion"] == project["version"]
    assert meta["name"] == "gateway"


# --- migration Job ----------------------------------------------------------------------------


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook(release: Rendered) -> None:
    job = release.workload("migrate")
    annotations = job["metadata"]["annotations"]
    assert job["kind"] == "Job"
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert set(annotations["helm.sh/hook-delete-policy"].split(",")) == {
        "before-hook-creation",
        "hook-succeeded",
    }
    assert int(annotations["helm.sh/hook-weight"]) == 0
    assert job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["activeDeadlineSeconds"] > 0
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    # The hook runs before the chart's ServiceAccount and ConfigMap exist on a first install.
    assert "serviceAccountName" not in pod
    for c in containers(pod):
        assert "envFrom" not in c


def test_migration_runs_migrate_then_ensures_each_client(case: tuple[str, dict[str, Any]]) -> None:
    clients = effective(case[1])["clients"]
    pod = render(case[1]).workload("migrate")["spec"]["template"]["spec"]
    steps = containers(pod)
    assert steps[0]["args"] == ["migrate"]
    assert len(steps) == 1 + len(clients) + 1
    # Init containers run one after another; the last step is the Job's own container: it
    # revokes the clients no longer declared, keeping exactly the declared ones.
    assert pod["containers"] == [steps[-1]]
    keep = [arg for pair in (["--keep", c["name"]] for c in clients) for arg in pair]
    assert steps[-1]["args"] == ["client", "prune", *keep]
    assert "CLIENT_TOKEN" not in env_of(steps[-1])
    steps = steps[:-1]
    for client, step in zip(clients, steps[1:], strict=True):
        expected = [
            "client",
            "ensure",
            "--name",
            client["name"],
            "--scopes",
            ",".join(client["scopes"]),
            "--token-env",
            "CLIENT_TOKEN",
        ]
        for ods in client.get("ods", []):
            expected += ["--ods", ods]
        for urn in client.get("urn", []):
            expected += ["--urn", str(urn)]
        assert step["args"] == expected
        env = env_of(step)
        assert env["CLIENT_TOKEN"] == {
            "name": "CLIENT_TOKEN",
            "valueFrom": {
                "secretKeyRef": {"name": client["secretName"], "key": client["secretKey"]}
            },
        }
        assert "GATEWAY_DATABASE_URL" in env
    # Each step sees its own token and no other.
    assert "CLIENT_TOKEN" not in env_of(steps[0])
    tokens = [env_of(s)["CLIENT_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] for s in steps[1:]]
    assert tokens == [c["secretName"] for c in clients]


def test_production_provisions_the_expected_clients() -> None:
    pod = render(PRODUCTION).workload("migrate")["spec"]["template"]["spec"]
    by_name = {}
    for step in containers(pod)[1:-1]:
        args = step["args"]
        by_name[args[args.index("--name") + 1]] = args
    scopes = {name: args[args.index("--scopes") + 1] for name, args in by_name.items()}
    assert scopes["prometheus"] == "metrics"
    assert "--ods" in by_name["lincolnshire-camhs"]
    assert "--urn" in by_name["lincoln-castle-academy-mis"]
    assert len(by_name) == 5
    names = [c["name"] for c in containers(pod)]
    assert len(set(names)) == len(names)
    assert all(len(n) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", n) for n in names)


# --- secrets ----------------------------------------------------------------------------------


def test_no_secret_is_rendered_or_inlined(release: Rendered) -> None:
    assert release.of_kind("Secret") == []
    text = "\n".join(release.templates.values())
    assert "kind: Secret" not in text
    assert "postgresql+psycopg://" not in text
    seen = set()
    for where, pod in release.pod_specs():
        for c in containers(pod):
            for env in c.get("env", []):
                if SECRET_LOOKING.search(env["name"]):
                    seen.add(env["name"])
                    assert "value" not in env, f"{where} {c['name']} inlines {env['name']}"
                    ref = env["valueFrom"]["secretKeyRef"]
                    assert ref["name"] and ref["key"], f"{where} {env['name']}"
            assert "envFrom" not in c or all("secretRef" not in e for e in c["envFrom"])
    assert "GATEWAY_DATABASE_URL" in seen
    for key in release.config():
        assert not SECRET_LOOKING.search(key), key


def test_database_url_comes_from_the_named_secret(case: tuple[str, dict[str, Any]]) -> None:
    secret = effective(case[1])["database"]
    release = render(case[1])
    for where, pod in release.pod_specs():
        for c in containers(pod):
            ref = env_of(c)["GATEWAY_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert ref == {
                "name": secret["existingSecret"],
                "key": secret["existingSecretKey"],
            }, where


def test_mosaic_password_only_reaches_the_worker() -> None:
    release = render(PRODUCTION)
    worker = env_of(container(release, "worker", "worker"))
    assert worker["GATEWAY_MOSAIC_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "gateway-mosaic",
        "key": "password",
    }
    assert "GATEWAY_MOSAIC_PASSWORD" not in env_of(container(release, "api", "api"))
    default_worker = env_of(container(render(MINIMUM), "worker", "worker"))
    assert "GATEWAY_MOSAIC_PASSWORD" not in default_worker


# --- configuration ----------------------------------------------------------------------------


def test_config_map_carries_the_settings() -> None:
    config = render(PRODUCTION).config()
    assert config["GATEWAY_POLICY"] == "lincolnshire"
    assert config["GATEWAY_LOG_JSON"] == "true"
    assert config["GATEWAY_WEB_CONCURRENCY"] == "1"
    assert config["GATEWAY_HOST"] == ANY_ADDRESS
    assert config["GATEWAY_PORT"] == "8000"
    assert config["GATEWAY_PUBLIC_BASE_URL"] == "https://s19-gateway.lincolnshire.gov.uk"
    assert config["GATEWAY_MOSAIC_URL"] == PRODUCTION["config"]["mosaicUrl"]
    assert config["GATEWAY_NHS_FHIR_URL"] == PRODUCTION["config"]["nhsFhirUrl"]
    assert config["GATEWAY_UKRLP_URL"] == PRODUCTION["config"]["ukrlpUrl"]
    assert config["GATEWAY_DELIVERY_BATCH_SIZE"] == "100"
    assert config["GATEWAY_DELIVERY_MAX_ATTEMPTS"] == "12"
    assert all(k.startswith("GATEWAY_") for k in config)
    assert all(isinstance(v, str) for v in config.values())
    default = render(MINIMUM).config()
    # Unset endpoints are left out, so the gateway keeps them in its outbox.
    assert not {"GATEWAY_MOSAIC_URL", "GATEWAY_NHS_FHIR_URL", "GATEWAY_UKRLP_URL"} & set(default)
    for component in ("api", "worker"):
        for c in containers(render(MINIMUM).workload(component)["spec"]["template"]["spec"]):
            assert c["envFrom"] == [{"configMapRef": {"name": fullname()}}]


def test_forwarded_addresses_are_believed_only_from_the_proxies_named() -> None:
    assert "GATEWAY_TRUSTED_PROXIES" not in render(MINIMUM).config()
    assert "GATEWAY_TRUSTED_PROXIES" not in render(PRODUCTION).config()
    named = render(merged(MINIMUM, {"config": {"trustedProxies": ["10.244.0.0/16", "fd00::1"]}}))
    assert named.config()["GATEWAY_TRUSTED_PROXIES"] == "10.244.0.0/16,fd00::1"


def _checksums(release: Rendered) -> set[str]:
    return {
        release.workload(c)["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        for c in ("api", "worker")
    }


def test_config_checksum_rolls_pods_when_config_changes(case: tuple[str, dict[str, Any]]) -> None:
    release = render(case[1])
    before = _checksums(release)
    configmap = release.templates[f"{CHART.name}/templates/configmap.yaml"]
    assert before == {hashlib.sha256(configmap.encode()).hexdigest()}
    changed = render(merged(case[1], {"config": {"logLevel": "DEBUG"}}))
    assert changed.config()["GATEWAY_LOG_LEVEL"] == "DEBUG"
    after = _checksums(changed)
    assert len(after) == 1
    assert after != before
    # Scaling is not configuration: the pods keep their checksum.
    unchanged = render(merged(case[1], {"worker": {"replicas": 5}}))
    assert _checksums(unchanged) == before


# --- network ----------------------------------------------------------------------------------


def _egress(policy: dict[str, Any]) -> set[tuple[str, str, int]]:
    """Every (destination, protocol, port) the policy lets out; a rule without destinations or
    without ports would let out everything, and fails here."""
    allowed = set()
    for rule in policy["spec"]["egress"]:
        assert rule.get("to"), f"an egress rule open to every destination: {rule}"
        assert rule.get("ports"), f"an egress rule open on every port: {rule}"
        for peer in rule["to"]:
            if "ipBlock" in peer:
                assert "except" not in peer["ipBlock"]
                destination = str(ipaddress.ip_network(peer["ipBlock"]["cidr"]))
            else:
                destination = json.dumps(peer, sort_keys=True)
            for port in rule["ports"]:
                allowed.add((destination, port["protocol"], port["port"]))
    return allowed


KUBE_DNS = json.dumps(
    {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    },
    sort_keys=True,
)


def test_production_egress_is_exactly_dns_postgres_and_the_endpoints() -> None:
    policy = render(PRODUCTION).get("NetworkPolicy", fullname())
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert _egress(policy) == {
        (KUBE_DNS, "UDP", 53),
        (KUBE_DNS, "TCP", 53),
        ("10.20.30.0/24", "TCP", 5432),
        ("10.64.12.0/24", "TCP", 443),
        ("194.101.83.0/24", "TCP", 443),
        ("20.108.146.0/24", "TCP", 443),
    }


def test_default_egress_is_dns_and_in_cluster_postgres_only() -> None:
    policy = render(MINIMUM).get("NetworkPolicy", fullname())
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    postgres = json.dumps(
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}},
        sort_keys=True,
    )
    assert _egress(policy) == {
        (KUBE_DNS, "UDP", 53),
        (KUBE_DNS, "TCP", 53),
        (postgres, "TCP", 5432),
    }


def test_network_policy_covers_every_pod_of_the_release(release: Rendered) -> None:
    policy = release.get("NetworkPolicy", fullname())
    selector = policy["spec"]["podSelector"]["matchLabels"]
    for where, _ in release.pod_specs():
        kind, name = where.split("/")
        labels = release.get(kind, name)["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), where


def test_ingress_admits_only_the_api_and_health_ports(case: tuple[str, dict[str, Any]]) -> None:
    values = effective(case[1])["networkPolicy"]["ingress"]
    policy = render(case[1]).get("NetworkPolicy", fullname())
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    by_port: dict[int, list[dict[str, Any]]] = {}
    for rule in policy["spec"]["ingress"]:
        assert rule.get("from"), f"an ingress rule open to every source: {rule}"
        assert [p["protocol"] for p in rule["ports"]] == ["TCP"]
        by_port.setdefault(rule["ports"][0]["port"], []).extend(rule["from"])
    assert set(by_port) == {8000, 8001}
    assert by_port[8000] == [*values["apiFrom"], monitoring]
    assert by_port[8001] == [monitoring]
    assert all(peer for peers in by_port.values() for peer in peers)


def test_network_policy_refuses_an_empty_source_list() -> None:
    with pytest.raises((helm_python.HelmValuesError, helm_python.HelmRenderError)):
        render(merged(MINIMUM, {"networkPolicy": {"ingress": {"apiFrom": []}}}))


# --- service, ingress, disruption budgets -----------------------------------------------------


def _selects(selector: dict[str, str], release: Rendered, component: str) -> bool:
    labels = release.workload(component)["spec"]["template"]["metadata"]["labels"]
    return selector.items() <= labels.items()


def test_service_sends_port_80_to_the_api(release: Rendered) -> None:
    service = release.get("Service", fullname())
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP", "appProtocol": "http"}
    ]
    selector = service["spec"]["selector"]
    assert _selects(selector, release, "api")
    assert not _selects(selector, release, "worker")
    assert not _selects(selector, release, "migrate")


def test_pdb_selects_api_pods(release: Rendered) -> None:
    pdb = release.get("PodDisruptionBudget", fullname())
    selector = pdb["spec"]["selector"]["matchLabels"]
    assert _selects(selector, release, "api")
    assert not _selects(selector, release, "worker")
    assert pdb["spec"]["maxUnavailable"] == 1


def test_worker_pdb_only_when_there_is_more_than_one_worker() -> None:
    names = {d["metadata"]["name"] for d in render(MINIMUM).of_kind("PodDisruptionBudget")}
    assert names == {fullname()}
    release = render(PRODUCTION)
    pdb = release.get("PodDisruptionBudget", f"{fullname()}-worker")
    assert _selects(pdb["spec"]["selector"]["matchLabels"], release, "worker")
    assert not _selects(pdb["spec"]["selector"]["matchLabels"], release, "api")


def test_ingress_is_off_by_default_and_terminates_tls_in_production() -> None:
    assert render(MINIMUM).of_kind("Ingress") == []
    ingress = render(PRODUCTION).get("Ingress", fullname())["spec"]
    host = "s19-gateway.lincolnshire.gov.uk"
    assert ingress["ingressClassName"] == "nginx"
    assert ingress["tls"] == [{"secretName": "s19-gateway-tls", "hosts": [host]}]
    assert [r["host"] for r in ingress["rules"]] == [host]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]
    assert backend == {"service": {"name": fullname(), "port": {"name": "http"}}}


def test_service_account_mounts_no_token(release: Rendered) -> None:
    account = release.get("ServiceAccount", fullname())
    assert account["automountServiceAccountToken"] is False
    for kind in ("api", "worker"):
        pod = release.workload(kind)["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == fullname()


# --- metrics ----------------------------------------------------------------------------------


def test_metrics_integration_is_opt_in() -> None:
    release = render(MINIMUM)
    assert not [d for d in release.documents if d["kind"] == "ServiceMonitor"]
    for component in ("api", "worker"):
        annotations = release.workload(component)["spec"]["template"]["metadata"]["annotations"]
        assert "prometheus.io/scrape" not in annotations
    production = render(PRODUCTION)
    ports = {"api": "8000", "worker": "8001"}
    for component, port in ports.items():
        meta = production.workload(component)["spec"]["template"]["metadata"]
        assert meta["annotations"]["prometheus.io/port"] == port
        assert meta["annotations"]["prometheus.io/path"] == "/metrics"


def test_service_monitor_scrapes_both_ports_with_the_metrics_token() -> None:
    enabled = merged(MINIMUM, {"metrics": {"serviceMonitor": {"enabled": True}}})
    with pytest.raises(helm_python.HelmRenderError, match="tokenSecretName"):
        render(enabled)
    release = render(
        merged(enabled, {"metrics": {"serviceMonitor": {"tokenSecretName": "prom-token"}}})
    )
    (monitor,) = release.of_kind("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    endpoints = {e["port"]: e for e in monitor["spec"]["endpoints"]}
    assert set(endpoints) == {"http", "health"}
    for endpoint in endpoints.values():
        assert endpoint["path"] == "/metrics"
        assert endpoint["authorization"] == {
            "type": "Bearer",
            "credentials": {"name": "prom-token", "key": "token"},
        }
    worker_service = release.get("Service", f"{fullname()}-worker")
    kubernetes_validate.validate(worker_service, KUBE_VERSION, strict=True)
    assert worker_service["spec"]["ports"][0]["targetPort"] == "health"
    assert _selects(worker_service["spec"]["selector"], release, "worker")


def test_notes_say_where_the_gateway_is() -> None:
    notes = render(PRODUCTION).notes
    assert "https://s19-gateway.lincolnshire.gov.uk/" in notes
    assert f"deployment/{fullname()}-worker" in notes
    assert "prometheus (scopes metrics" in notes
    assert "port-forward" in render(MINIMUM).notes


# --- Dockerfile -------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    instructions = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending
    return instructions


def test_dockerfile_builds_a_non_root_gateway_image() -> None:
    instructions = dockerfile_instructions()
    stages = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert len(stages) >= 2
    args = dict(a.split("=", 1) for k, a in instructions if k == "ARG" and "=" in a)
    bases = [shlex.split(instructions[i][1])[0] for i in stages]
    resolved = [args.get(b.strip("${}"), b) for b in bases]
    assert all(b.startswith("python:3.11-slim") for b in resolved), resolved
    final = instructions[stages[-1] :]
    users = [a for k, a in final if k == "USER"]
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) == 10001
    assert json.loads(dict(final)["ENTRYPOINT"]) == ["gateway"]
    assert json.loads(dict(final)["CMD"]) == SERVE
    assert "8000" in dict(final)["EXPOSE"].split()
    assert any(k == "COPY" and a.startswith("--from=builder /opt/venv") for k, a in final)
    labels = " ".join(a for k, a in final if k == "LABEL")
    assert "org.opencontainers.image.title" in labels
    assert 'org.opencontainers.image.version="${VERSION}"' in labels
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"VERSION={project['version']}" in [a for k, a in final if k == "ARG"]


def test_dockerfile_fetches_nothing_and_holds_no_secrets() -> None:
    instructions = dockerfile_instructions()
    for keyword, rest in instructions:
        assert not (keyword == "ADD" and re.search(r"https?://", rest)), rest
        if keyword in {"ENV", "ARG", "LABEL"}:
            assert not SECRET_LOOKING.search(rest), rest
            assert not re.search(r"KEY\b|CREDENTIAL", rest, re.IGNORECASE), rest
    builder = [a for k, a in instructions if k == "RUN"]
    assert any("pip install --no-cache-dir ." in a for a in builder)


def test_dockerfile_ships_contracts_where_the_adapters_look() -> None:
    from adapters.portal import notification

    package_root = notification.SCHEMA_PATH.parents[2]
    relative = notification.SCHEMA_PATH.relative_to(package_root)
    assert relative.parts[0] == "contracts"
    assert (ROOT / relative).is_file()
    copies = [a.split() for k, a in dockerfile_instructions() if k == "COPY"]
    assert ["contracts", "/opt/venv/lib/python3.11/site-packages/contracts"] in copies
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "tests"} <= set(ignored)
    assert "contracts" not in ignored
    assert not {"gateway", "adapters", "mappings", "simulators", "README.md"} & set(ignored)


def test_a_client_declared_twice_is_refused() -> None:
    twice = {"name": "portal", "scopes": ["portal:write"], "secretName": "s", "secretKey": "k"}
    with pytest.raises(helm_python.HelmRenderError, match="declared twice"):
        render({**MINIMUM, "clients": [twice, twice]})


def test_a_shutdown_grace_longer_than_the_pod_is_given_is_refused() -> None:
    """Kubernetes kills the pod at terminationGracePeriodSeconds: the API's own grace and the
    preStop sleep must fit inside it, or in-flight requests are cut off."""
    config = {**MINIMUM.get("config", {}), "shutdownGraceSeconds": 36}
    with pytest.raises(helm_python.HelmRenderError, match="must be less than"):
        render({**MINIMUM, "config": config})
    render({**MINIMUM, "config": {**config, "shutdownGraceSeconds": 34}})
