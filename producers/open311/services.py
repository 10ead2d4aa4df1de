"""What Open311 discovery and the service list say, drawn from the taxonomy (pure data).

Every taxonomy category is a service (`service_code` = category code). Each service has the
same optional attributes, which make our extensions explicit in Open311's own terms:
`source_ref` (your system's id: makes retries idempotent), `priority` (P0–P4 override) and
`crs` (the coordinate system of lat/long when it is not WGS84, e.g. gcj02 from Amap).
"""

from __future__ import annotations

from typing import Any

from config.policy import Priority, Taxonomy
from producers.open311.agencies import Directory
from schemas.report import Crs

SPEC = "http://wiki.open311.org/GeoReport_v2"


def service(taxonomy: Taxonomy, code: str) -> dict[str, Any]:
    category = taxonomy.categories[code]
    family = taxonomy.families[category.family]
    return {
        "service_code": code,
        "service_name": category.zh,
        "description": f"{category.en} ({family.en}); default priority {category.priority.value}; "
        f"lead department {category.lead_department}",
        "metadata": True,
        "type": "realtime",
        "keywords": f"{category.zh}, {category.en}, {family.zh}",
        "group": family.zh,
    }


def service_list(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    return [service(taxonomy, code) for code in taxonomy.categories]


def definition(taxonomy: Taxonomy, code: str) -> dict[str, Any]:
    priorities = [{"key": p.value, "name": p.value} for p in Priority]
    systems = [{"key": c.value, "name": c.value} for c in Crs]
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "source_ref",
                "datatype": "string",
                "required": False,
                "datatype_description": "Your system's own id for this request (at most 128 characters)",
                "order": 1,
                "description": "Makes a retried POST idempotent: the same source_ref is the same request",
            },
            {
                "variable": True,
                "code": "priority",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": 2,
                "description": f"Override the default priority ({taxonomy.categories[code].priority.value})",
                "values": priorities,
            },
            {
                "variable": True,
                "code": "crs",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": 3,
                "description": "Coordinate system of lat/long (default wgs84)",
                "values": systems,
            },
        ],
    }


def discovery(directory: Directory, url: str) -> dict[str, Any]:
    return {
        "changeset": directory.changeset,
        "contact": directory.contact,
        "key_service": directory.key_service,
        "endpoints": [
            {
                "specification": SPEC,
                "url": url,
                "changeset": directory.changeset,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
