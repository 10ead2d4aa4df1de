"""The part of `kustomize build` the overlays use, so the suite can check what `kubectl apply
-k` would send without a kustomize binary (no Debian package ships one): resources (files
and directories), namespace, images, and JSON 6902 patches (add, replace, remove) chosen by
kind and name. Anything else in a kustomization is refused, so an overlay cannot quietly use
a feature this check would ignore.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]
KNOWN = {"apiVersion", "kind", "namespace", "resources", "images", "patches"}
CLUSTER_SCOPED = {"Namespace"}


class KustomizeError(ValueError):
    pass


def build(directory: Path) -> list[Manifest]:
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(spec) - KNOWN
    if unknown:
        raise KustomizeError(f"{directory}: fields not covered by this check: {sorted(unknown)}")
    docs: list[Manifest] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            docs += build(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for patch in spec.get("patches", []):
        target = patch["target"]
        hits = [d for d in docs if d["kind"] == target["kind"] and d["metadata"]["name"] == target["name"]]
        if len(hits) != 1:
            raise KustomizeError(f"{directory}: patch target {target} matches {len(hits)} resources")
        for op in yaml.safe_load(patch["patch"]):
            apply_op(hits[0], op)
    for image in spec.get("images", []):
        for doc in docs:
            for container in _containers(doc):
                if container["image"].split(":")[0] == image["name"]:
                    name, tag = image.get("newName", image["name"]), image.get("newTag", "latest")
                    container["image"] = f"{name}:{tag}"
    if "namespace" in spec:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = spec["namespace"]
    return docs


def _containers(doc: Manifest) -> list[Manifest]:
    spec = doc.get("spec", {})
    template = spec.get("template", {}).get("spec", {})
    return list(template.get("containers", []))


def apply_op(doc: Manifest, op: Manifest) -> None:
    """One JSON 6902 operation; a path that does not exist (for replace/remove) is an error."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
    parent: Any = doc
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    key: Any = int(last) if isinstance(parent, list) and last != "-" else last
    if op["op"] == "replace":
        missing = key not in parent if isinstance(parent, dict) else key >= len(parent)
        if missing:
            raise KustomizeError(f"replace {op['path']}: no such path")
        parent[key] = copy.deepcopy(op["value"])
    elif op["op"] == "add":
        if isinstance(parent, list):
            parent.insert(len(parent) if key == "-" else key, copy.deepcopy(op["value"]))
        else:
            parent[key] = copy.deepcopy(op["value"])
    elif op["op"] == "remove":
        del parent[key]
    else:
        raise KustomizeError(f"JSON patch op {op['op']!r} not covered by this check")
