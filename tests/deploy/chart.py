"""Render helm/gateway offline with Helm's own Go library and read the manifests back."""

from __future__ import annotations

import copy
import functools
import json
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import helm_python
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "gateway"
RELEASE = "s19"
NAMESPACE = "s19-gateway"
KUBE_VERSION = "1.30"

# The least an install must say: the Secret holding the database URL.
MINIMUM: dict[str, Any] = {"database": {"existingSecret": "gateway-database"}}


def production_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART / "values-production.yaml").read_text())
    return values


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, maps merged key by key (as ``--set`` does)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@dataclass(frozen=True)
class Rendered:
    """One release's manifests, parsed, and its NOTES.txt."""

    documents: tuple[dict[str, Any], ...]
    templates: dict[str, str]

    @property
    def notes(self) -> str:
        return self.templates[f"{CHART.name}/templates/NOTES.txt"]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.documents if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def workload(self, component: str) -> dict[str, Any]:
        """The Deployment or Job of a component (api, worker, migrate)."""
        found = [
            d
            for d in self.documents
            if d["kind"] in {"Deployment", "Job"}
            and d["metadata"]["labels"].get("app.kubernetes.io/component") == component
        ]
        assert len(found) == 1, f"expected one workload for {component}, found {len(found)}"
        return found[0]

    def pod_specs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for doc in self.documents:
            if doc["kind"] in {"Deployment", "Job"}:
                yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]

    def config(self) -> dict[str, str]:
        data: dict[str, str] = self.get("ConfigMap", fullname())["data"]
        return data


def fullname() -> str:
    return f"{RELEASE}-{CHART.name}"


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """Init containers first, in the order they run, then the main ones."""
    return [*pod.get("initContainers", []), *pod["containers"]]


def render(values: dict[str, Any]) -> Rendered:
    return _render(json.dumps(values, sort_keys=True))


@functools.cache
def _render(values_json: str) -> Rendered:
    with helm_python.Chart.load(CHART) as chart:
        templates = chart.render(
            json.loads(values_json), name=RELEASE, namespace=NAMESPACE, is_install=True
        )
    documents = tuple(
        doc
        for path, text in sorted(templates.items())
        if not path.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    )
    return Rendered(documents, templates)


def lint(values: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    return helm_python.lint(CHART, values, strict=strict, kube_version=f"v{KUBE_VERSION}.0")


def chart_metadata() -> dict[str, Any]:
    meta: dict[str, Any] = yaml.safe_load((CHART / "Chart.yaml").read_text())
    return meta
