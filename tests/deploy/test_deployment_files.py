"""The deployment files: the generated Kubernetes base is current, its Kafka topics and
policy ConfigMap equal config/, the base and both overlays build and their core kinds pass
the Kubernetes API schemas (kubernetes-validate, offline), the operator resources pass their
CRD schemas (the @kubernetes-models validators, offline), every container runs a real
`yiwang` command, and `docker-compose config` accepts the one-host file."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from config.settings import Settings
from config.topics import load_topics
from deploy.cli import build_parser
from deploy.k8s import render
from deploy.k8s.crd_check import OPERATOR_KINDS, check_operator_resources, is_operator_resource
from deploy.k8s.manifests import BASE_DIR, policy_files
from deploy.services.common import ServiceError
from deploy.services.compose import compose_config, ensure_compose
from tests.deploy.kustomize_subset import build

K8S = BASE_DIR.parent
K8S_VERSION = "1.33"
LAYOUTS = {"base": BASE_DIR, "district": K8S / "overlays" / "district", "city": K8S / "overlays" / "city"}


def of_kind(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def test_the_generated_base_is_current() -> None:
    assert render.stale() == [], "run `yiwang k8s render` and commit deploy/k8s/base/"


def test_kafka_topics_equal_config_topics() -> None:
    docs = list(yaml.safe_load_all((BASE_DIR / "kafka-topics.yaml").read_text()))
    on_cluster = {
        d["spec"]["topicName"]: (d["spec"]["partitions"], d["spec"]["config"]["retention.ms"]) for d in docs
    }
    declared = {s.name: (s.partitions, s.retention_ms) for s in load_topics()}
    assert on_cluster == declared
    assert {(d["spec"]["replicas"], d["spec"]["config"]["min.insync.replicas"]) for d in docs} == {(3, 2)}
    assert all(d["metadata"]["labels"]["strimzi.io/cluster"] == "yiwang" for d in docs)


def test_policy_config_map_equals_config_and_is_mounted_everywhere() -> None:
    docs = build(BASE_DIR)
    (policy,) = of_kind(docs, "ConfigMap", "yiwang-policy")
    assert policy["data"] == policy_files() and "sla.toml" in policy["data"]
    assert "accounts.toml" not in policy["data"]
    pods = [d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("Deployment", "Job")]
    for pod in pods:
        for container in pod["containers"]:
            mounted = {m["subPath"] for m in container["volumeMounts"] if m["name"] == "policy"}
            assert mounted == set(policy["data"]), container["name"]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_manifests_build_and_core_kinds_validate(layout: str) -> None:
    docs = build(LAYOUTS[layout])
    operator_kinds = set()
    for doc in docs:
        key = (doc["apiVersion"], doc["kind"])
        if key in OPERATOR_KINDS:
            operator_kinds.add(key)
            continue
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = f"{layout}: {doc['kind']}/{doc['metadata']['name']}"
            pytest.fail(f"{where}: {exc.message} at {list(exc.path)}")
    assert operator_kinds == OPERATOR_KINDS
    names = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(names) == len(set(names)), "a resource is declared twice"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_operator_resources_pass_their_crd_schemas(layout: str) -> None:
    docs = [d for d in build(LAYOUTS[layout]) if is_operator_resource(d)]
    failures = [r for r in check_operator_resources(docs) if r.error is not None]
    assert failures == []
    assert len(docs) == len(of_kind(docs, "KafkaTopic")) + 5


def test_the_crd_check_refuses_a_broken_resource() -> None:
    docs = build(BASE_DIR)
    (topic,) = of_kind(docs, "KafkaTopic", "incidents")
    (pool,) = of_kind(docs, "KafkaNodePool")
    bad_topic = copy.deepcopy(topic) | {"spec": {**topic["spec"], "partitions": "six"}}
    bad_pool = copy.deepcopy(pool)
    del bad_pool["spec"]["roles"]
    errors = [r.error for r in check_operator_resources([bad_topic, bad_pool])]
    assert errors[0] is not None and "partitions" in errors[0]
    assert errors[1] is not None and "roles" in errors[1]


def test_overlays_size_the_deployment() -> None:
    district, city = build(LAYOUTS["district"]), build(LAYOUTS["city"])
    namespaces = {d["metadata"].get("namespace") for d in district if d["kind"] != "Namespace"}
    assert namespaces == {"yiwang-district"}
    assert of_kind(city, "KafkaNodePool")[0]["spec"]["replicas"] == 5
    assert of_kind(city, "Cluster")[0]["spec"]["instances"] == 3
    assert of_kind(city, "HorizontalPodAutoscaler")[0]["spec"]["maxReplicas"] == 12
    assert of_kind(district, "ScaledObject")[0]["spec"]["maxReplicaCount"] == 3
    pods = [d["spec"]["template"]["spec"] for d in city if d["kind"] in ("Deployment", "Job")]
    images = {c["image"] for pod in pods for c in pod["containers"]}
    assert images == {"registry.example.org/yiwang:0.1.0"}


def test_probes_and_autoscaling_point_at_real_things() -> None:
    docs = build(BASE_DIR)
    (api,) = of_kind(docs, "Deployment", "yiwang-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    (scaled,) = of_kind(docs, "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "yiwang-worker"
    grid_partitions = {s.partitions for s in load_topics() if s.copartition}
    assert {scaled["spec"]["maxReplicaCount"]} == grid_partitions, "more workers than partitions would idle"
    (hpa,) = of_kind(docs, "HorizontalPodAutoscaler")
    assert of_kind(docs, "Deployment", hpa["spec"]["scaleTargetRef"]["name"])


def _commands() -> list[list[str]]:
    docs = build(BASE_DIR)
    out = [
        c["args"]
        for d in docs
        if d["kind"] in ("Deployment", "Job")
        for c in d["spec"]["template"]["spec"]["containers"]
    ]
    compose = yaml.safe_load((BASE_DIR.parents[1] / "docker-compose.yml").read_text())
    out += [s["command"] for s in compose["services"].values() if "command" in s]
    return out


@pytest.mark.parametrize("argv", _commands(), ids=" ".join)
def test_every_container_runs_a_real_yiwang_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert callable(args.func)


@pytest.fixture(scope="module")
def docker_compose(base_settings: Settings) -> str:
    return ensure_compose(base_settings)


def test_docker_compose_config_accepts_the_one_host_file(docker_compose: str) -> None:
    env = dict(os.environ, POSTGRES_PASSWORD="pw-for-the-check", YIWANG_JWT_SECRET="k" * 64)
    resolved: Any = compose_config(docker_compose, env)
    services = resolved["services"]
    assert set(services) == {"kafka", "postgres", "schema", "worker", "api"}
    assert services["api"]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert "pw-for-the-check" in services["worker"]["environment"]["DATABASE_URL"]


def test_docker_compose_refuses_to_run_without_the_secrets(docker_compose: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("POSTGRES_PASSWORD", "YIWANG_JWT_SECRET")}
    with pytest.raises(ServiceError, match=r"POSTGRES_PASSWORD|YIWANG_JWT_SECRET"):
        compose_config(docker_compose, env)


def test_the_dockerfile_copies_what_exists() -> None:
    dockerfile = (BASE_DIR.parents[1] / "Dockerfile").read_text()
    assert "yiwang web build" in dockerfile and 'ENTRYPOINT ["yiwang"]' in dockerfile
    assert Path(BASE_DIR.parents[2] / "pyproject.toml").exists()
