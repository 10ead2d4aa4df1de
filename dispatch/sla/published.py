"""The escalation policies as published on the `sla.policies` topic.

A case is frozen on the policy in force when it was created (`incidents.policy_id`, the
policy's fingerprint) and the SLA pass reads that policy from `sla_policies`. The tables are
a projection of the topics, so the policies are on a topic too: every worker publishes the
policy it runs before it takes work, and `yiwang rebuild` restores `sla_policies` from the
topic. A fingerprint is the hash of the document, so publishing one twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from dispatch.sla.ladder import EscalationPolicy, parse_escalation

POLICY_TOPIC = "sla.policies"
POLICY_HEADERS: list[tuple[str, bytes]] = [("schema", b"yiwang.sla-policy/1")]


@dataclass(frozen=True, slots=True)
class PublishedPolicy:
    policy_id: str
    body: dict[str, Any]


def policy_message(policy: EscalationPolicy) -> tuple[bytes, bytes]:
    """(key, value) of the policy's record: the fingerprint, and the document it hashes."""
    value = orjson.dumps({"policy_id": policy.fingerprint, "body": policy.to_document()})
    return policy.fingerprint.encode(), value


def read_policy_message(value: bytes) -> PublishedPolicy:
    """A record back as a policy; refuses one whose body does not hash to its id.

    >>> from dispatch.sla.ladder import load_escalation
    >>> policy = load_escalation()
    >>> read_policy_message(policy_message(policy)[1]).policy_id == policy.fingerprint
    True
    """
    doc = orjson.loads(value)
    policy_id, body = doc.get("policy_id"), doc.get("body")
    if not isinstance(policy_id, str) or not isinstance(body, dict):
        raise ValueError("sla.policies record: needs a policy_id string and a body object")
    fingerprint = parse_escalation(body, origin=f"sla.policies/{policy_id}").fingerprint
    if fingerprint != policy_id:
        raise ValueError(f"sla.policies record {policy_id}: its body hashes to {fingerprint}")
    return PublishedPolicy(policy_id, body)
