"""The Kubernetes base of a Yiwang deployment, built as data from the repository's own files.

Kafka (Strimzi `Kafka`, `KafkaNodePool`, one `KafkaTopic` per entry of config/topics.toml),
PostgreSQL/PostGIS (CloudNativePG `Cluster`), the policy ConfigMap (config/*.toml), the
settings ConfigMap, the secrets' placeholders, the workers (Deployment + KEDA ScaledObject on
the intake group's lag), the API (Deployment + Service + HorizontalPodAutoscaler, readiness
on /health), the schema Job and a Prometheus ServiceMonitor.

`yiwang k8s render` writes these under deploy/k8s/base/; a test renders them again and
compares, so the topics, partitions and policy files of a cluster cannot drift from the
repository. The overlays (deploy/k8s/overlays/) are hand-written kustomize patches on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR
from config.topics import TopicSpec, load_topics
from deploy.services.kafka import pinned_version
from streams.worker import INTAKE_APP_ID

Manifest = dict[str, Any]
BASE_DIR = Path(__file__).resolve().parent / "base"
CLUSTER = "yiwang"
"""The Strimzi cluster name; its bootstrap Service is `<name>-kafka-bootstrap`."""
REPLICATION, MIN_ISR = 3, 2
IMAGE = "yiwang"
APP_DIR = "/app"
API_PORT, METRICS_PORT = 8080, 9108
POLICY_EXCLUDED = ("accounts.toml",)
"""Logins are not policy: they come from a Secret (see the README's Kubernetes section)."""
LABEL = "app.kubernetes.io/name"


@dataclass(frozen=True, slots=True)
class BaseFile:
    name: str
    documents: tuple[Manifest, ...]


def _meta(name: str, **labels: str) -> dict[str, Any]:
    return {"name": name, "labels": {"app.kubernetes.io/part-of": "yiwang", **labels}}


def kafka_resources(version: str) -> tuple[Manifest, ...]:
    """A KRaft cluster of three dual-role nodes; brokers replicate as `yiwang up --brokers 3`."""
    cluster_label = {"strimzi.io/cluster": CLUSTER}
    kafka = {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "Kafka",
        "metadata": _meta(CLUSTER)
        | {"annotations": {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}},
        "spec": {
            "kafka": {
                "version": version,
                "listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False}],
                "config": {
                    "auto.create.topics.enable": False,
                    "default.replication.factor": REPLICATION,
                    "min.insync.replicas": MIN_ISR,
                    "offsets.topic.replication.factor": REPLICATION,
                    "transaction.state.log.replication.factor": REPLICATION,
                    "transaction.state.log.min.isr": MIN_ISR,
                },
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
        },
    }
    pool = {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaNodePool",
        "metadata": _meta("dual-role") | {"labels": {"app.kubernetes.io/part-of": "yiwang", **cluster_label}},
        "spec": {
            "replicas": 3,
            "roles": ["controller", "broker"],
            "storage": {
                "type": "jbod",
                "volumes": [
                    {
                        "id": 0,
                        "type": "persistent-claim",
                        "size": "20Gi",
                        "deleteClaim": False,
                        "kraftMetadata": "shared",
                    }
                ],
            },
            "resources": {"requests": {"memory": "1Gi", "cpu": "250m"}, "limits": {"memory": "2Gi"}},
            "jvmOptions": {"-Xms": "512m", "-Xmx": "1g"},
        },
    }
    return kafka, pool


def topic_resource(spec: TopicSpec) -> Manifest:
    """One declared topic as a Strimzi KafkaTopic: same name, partitions and retention."""
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": {
            "name": spec.name,
            "labels": {"app.kubernetes.io/part-of": "yiwang", "strimzi.io/cluster": CLUSTER},
        },
        "spec": {
            "topicName": spec.name,
            "partitions": spec.partitions,
            "replicas": REPLICATION,
            "config": {"retention.ms": spec.retention_ms, "min.insync.replicas": MIN_ISR},
        },
    }


def postgres_cluster() -> Manifest:
    """PostgreSQL 15 with PostGIS 3 (the versions the local stack runs), a primary and a
    streaming replica; the boards can read from the `-ro` Service."""
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": _meta("yiwang-db"),
        "spec": {
            "instances": 2,
            "imageName": "ghcr.io/cloudnative-pg/postgis:15-3.3",
            "bootstrap": {
                "initdb": {
                    "database": "yiwang",
                    "owner": "yiwang",
                    "postInitApplicationSQL": ["CREATE EXTENSION IF NOT EXISTS postgis"],
                }
            },
            "storage": {"size": "20Gi"},
            "monitoring": {"enablePodMonitor": True},
        },
    }


def policy_files(config_dir: Path = CONFIG_DIR) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(config_dir.glob("*.toml")) if p.name not in POLICY_EXCLUDED}


def config_maps(files: dict[str, str]) -> tuple[Manifest, ...]:
    policy = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("yiwang-policy"), "data": files}
    env = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta("yiwang-env"),
        "data": {
            "KAFKA_BOOTSTRAP_SERVERS": f"{CLUSTER}-kafka-bootstrap:9092",
            "YIWANG_REPLICATION_FACTOR": str(REPLICATION),
            "YIWANG_HOME": "/var/lib/yiwang",
            "YIWANG_LOG_LEVEL": "INFO",
        },
    }
    return policy, env


def secrets() -> tuple[Manifest, ...]:
    """Placeholders only: an overlay (or the operator, with `kubectl create secret`) replaces them."""
    return (
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta("yiwang-jwt"),
            "type": "Opaque",
            "stringData": {"jwt-secret": "replace-me: openssl rand -hex 32"},
        },
    )


def _from_secret(variable: str, secret: str, key: str) -> Manifest:
    return {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _container(name: str, args: list[str], files: dict[str, str], ports: list[Manifest]) -> Manifest:
    return {
        "name": name,
        "image": IMAGE,
        "args": args,
        "ports": ports,
        "envFrom": [{"configMapRef": {"name": "yiwang-env"}}],
        "env": [
            _from_secret("DATABASE_URL", "yiwang-db-app", "uri"),  # written by CloudNativePG
            _from_secret("YIWANG_JWT_SECRET", "yiwang-jwt", "jwt-secret"),
        ],
        "volumeMounts": [
            {"name": "home", "mountPath": "/var/lib/yiwang"},
            *(
                {"name": "policy", "mountPath": f"{APP_DIR}/config/{f}", "subPath": f, "readOnly": True}
                for f in files
            ),
        ],
    }


def _volumes() -> list[Manifest]:
    return [
        {"name": "home", "emptyDir": {}},
        {"name": "policy", "configMap": {"name": "yiwang-policy"}},
    ]


def _deployment(name: str, container: Manifest, replicas: int) -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, **{LABEL: name}),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {LABEL: name}},
            "template": {
                "metadata": {"labels": {LABEL: name}},
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container],
                    "volumes": _volumes(),
                },
            },
        },
    }


def workers(files: dict[str, str], *, max_workers: int) -> tuple[Manifest, ...]:
    """Stream workers scaled by KEDA on the intake group's lag, up to one per grid partition."""
    container = _container(
        "worker",
        ["worker", "--metrics-port", str(METRICS_PORT)],
        files,
        [{"name": "metrics", "containerPort": METRICS_PORT}],
    )
    container |= {
        "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "livenessProbe": {"httpGet": {"path": "/metrics", "port": "metrics"}, "periodSeconds": 20},
    }
    metrics_service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta("yiwang-worker-metrics", **{LABEL: "yiwang-worker"}),
        "spec": {
            "clusterIP": "None",
            "selector": {LABEL: "yiwang-worker"},
            "ports": [{"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"}],
        },
    }
    scaled = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": _meta("yiwang-worker"),
        "spec": {
            "scaleTargetRef": {"name": "yiwang-worker"},
            "minReplicaCount": 1,
            "maxReplicaCount": max_workers,
            "cooldownPeriod": 300,
            "triggers": [
                {
                    "type": "kafka",
                    "metadata": {
                        "bootstrapServers": f"{CLUSTER}-kafka-bootstrap:9092",
                        "consumerGroup": INTAKE_APP_ID,
                        "lagThreshold": "1000",
                        "offsetResetPolicy": "earliest",
                    },
                }
            ],
        },
    }
    return _deployment("yiwang-worker", container, 1), metrics_service, scaled


def api(files: dict[str, str]) -> tuple[Manifest, ...]:
    container = _container(
        "api",
        ["api", "--host", "0.0.0.0", "--port", str(API_PORT)],  # noqa: S104 - inside a pod
        files,
        [{"name": "http", "containerPort": API_PORT}],
    )
    container |= {
        "resources": {"requests": {"cpu": "250m", "memory": "192Mi"}, "limits": {"memory": "384Mi"}},
        "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 20},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta("yiwang-api", **{LABEL: "yiwang-api"}),
        "spec": {
            "selector": {LABEL: "yiwang-api"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta("yiwang-api"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "yiwang-api"},
            "minReplicas": 2,
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }
    return _deployment("yiwang-api", container, 2), service, hpa


def schema_job(files: dict[str, str]) -> Manifest:
    """`yiwang up` against the cluster's Kafka and database: checks both, creates any declared
    topic the topic operator has not yet, and migrates the schema. Run once per release."""
    container = _container("schema", ["up"], files, [])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta("yiwang-schema"),
        "spec": {
            "backoffLimit": 10,
            "template": {
                "spec": {"restartPolicy": "OnFailure", "containers": [container], "volumes": _volumes()}
            },
        },
    }


def service_monitor() -> Manifest:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _meta("yiwang"),
        "spec": {
            "selector": {
                "matchExpressions": [
                    {"key": LABEL, "operator": "In", "values": ["yiwang-api", "yiwang-worker"]}
                ]
            },
            "endpoints": [
                {"port": "http", "path": "/metrics", "interval": "15s"},
                {"port": "metrics", "path": "/metrics", "interval": "15s"},
            ],
        },
    }


def base_files(
    topics: tuple[TopicSpec, ...] | None = None, config_dir: Path = CONFIG_DIR
) -> tuple[BaseFile, ...]:
    specs = topics if topics is not None else load_topics()
    files = policy_files(config_dir)
    grid_partitions = max(s.partitions for s in specs if s.copartition)
    return (
        BaseFile("kafka.yaml", kafka_resources(pinned_version())),
        BaseFile("kafka-topics.yaml", tuple(topic_resource(s) for s in specs)),
        BaseFile("postgres.yaml", (postgres_cluster(),)),
        BaseFile("config.yaml", config_maps(files)),
        BaseFile("secrets.yaml", secrets()),
        BaseFile("schema-job.yaml", (schema_job(files),)),
        BaseFile("worker.yaml", workers(files, max_workers=grid_partitions)),
        BaseFile("api.yaml", api(files)),
        BaseFile("monitoring.yaml", (service_monitor(),)),
    )


def kustomization(files: tuple[BaseFile, ...]) -> Manifest:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [f.name for f in files],
    }
