// Validate operator resources against their CRD schemas, offline.
// stdin: a JSON array of manifests; stdout: a JSON array of {kind, name, error} (error null when valid).
// Called by deploy/k8s/crd_check.py; the schemas come from the @kubernetes-models packages.
import { readFileSync } from "node:fs";
import { Kafka } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/Kafka";
import { KafkaNodePool } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaNodePool";
import { KafkaTopic } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaTopic";
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

const MODELS = {
  "kafka.strimzi.io/v1beta2 Kafka": Kafka,
  "kafka.strimzi.io/v1beta2 KafkaNodePool": KafkaNodePool,
  "kafka.strimzi.io/v1beta2 KafkaTopic": KafkaTopic,
  "postgresql.cnpg.io/v1 Cluster": Cluster,
  "keda.sh/v1alpha1 ScaledObject": ScaledObject,
  "monitoring.coreos.com/v1 ServiceMonitor": ServiceMonitor,
};

const docs = JSON.parse(readFileSync(0, "utf8"));
const results = docs.map((doc) => {
  const Model = MODELS[`${doc.apiVersion} ${doc.kind}`];
  const name = doc.metadata?.name ?? null;
  if (!Model) return { kind: doc.kind, name, error: `no CRD schema for ${doc.apiVersion} ${doc.kind}` };
  try {
    new Model(doc).validate();
    return { kind: doc.kind, name, error: null };
  } catch (e) {
    return { kind: doc.kind, name, error: String(e.message ?? e) };
  }
});
process.stdout.write(JSON.stringify(results));
