"""The operator resources of deploy/k8s checked against their CRD schemas, offline.

No PyPI or Debian package ships the Strimzi, CloudNativePG, KEDA or Prometheus-operator CRD
schemas; the npm packages `@kubernetes-models/*` do, as validators generated from the CRDs.
`deploy/k8s/crd-schemas/` pins them (package-lock.json) and its `validate.mjs` runs them on
the manifests handed over on stdin. The core kinds are checked by kubernetes-validate
instead (tests/deploy/test_deployment_files.py).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.services.common import ServiceError, run
from dispatch.web.bundle import ensure_node_modules

CRD_DIR = Path(__file__).resolve().parent / "crd-schemas"
OPERATOR_KINDS = frozenset(
    {
        ("kafka.strimzi.io/v1beta2", "Kafka"),
        ("kafka.strimzi.io/v1beta2", "KafkaNodePool"),
        ("kafka.strimzi.io/v1beta2", "KafkaTopic"),
        ("postgresql.cnpg.io/v1", "Cluster"),
        ("keda.sh/v1alpha1", "ScaledObject"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
    }
)


@dataclass(frozen=True, slots=True)
class CrdResult:
    kind: str
    name: str | None
    error: str | None


def is_operator_resource(doc: dict[str, Any]) -> bool:
    return (doc.get("apiVersion"), doc.get("kind")) in OPERATOR_KINDS


def check_operator_resources(docs: list[dict[str, Any]]) -> list[CrdResult]:
    """One result per document, in order; `error` is None for a valid one."""
    node = shutil.which("node")
    if node is None:
        raise ServiceError("node is needed to check the operator resources (apt-get install nodejs npm)")
    ensure_node_modules(CRD_DIR, purpose="CRD schemas")
    out = run([node, str(CRD_DIR / "validate.mjs")], what="CRD schema check", input_text=json.dumps(docs))
    return [CrdResult(r["kind"], r["name"], r["error"]) for r in json.loads(out)]
