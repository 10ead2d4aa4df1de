"""Setting up the page tests' stack beyond its one district: 九龙坡's layers (and some of its
buildings) loaded beside 沙坪坝's for one module, and a 110 record its adapter refuses put on
the stack's dead-letter topic through the real feeder and publisher.

九龙坡's layers take effect a day before 沙坪坝's, so the running worker, which serves the
district of the newest version, keeps 沙坪坝; everything loaded is removed on leaving, so the
stack's other page tests keep their one-district world."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import orjson
from sqlalchemy import text

from geo import service as geo_service
from geo.gazetteer import Gazetteer
from geo.reference import ReferenceDistrict, load_reference
from producers.feed import Feeder
from producers.ledger import Ledger
from producers.publisher import Publisher
from schemas.dead_letter import Origin
from schemas.report import Source
from tests.dispatch.web.conftest import Stack


@contextmanager
def jiulongpo_loaded(stack: Stack, *, buildings: int = 0) -> Iterator[ReferenceDistrict]:
    """九龙坡's layers and its first `buildings` buildings in the stack's database, removed after."""
    jlp = load_reference("jiulongpo")
    with stack.engine.begin() as conn:
        loaded = geo_service.import_layers(
            conn,
            geo_service.reference_layers(jlp),
            effective_from=stack.district.effective_from - timedelta(days=1),
            source=jlp.source,
        )
        if buildings:
            geo_service.upsert_buildings(conn, jlp.buildings[:buildings], Gazetteer.from_reference(jlp))
    try:
        yield jlp
    finally:
        with stack.engine.begin() as conn:
            conn.execute(
                text("DELETE FROM geo_building WHERE building_id = ANY(:ids)"),
                {"ids": [b.building_id for b in jlp.buildings[:buildings]]},
            )
            conn.execute(text("DELETE FROM geo_layer_version WHERE id = :v"), {"v": loaded.version_id})


def refuse_110(stack: Stack, **fields: object) -> str:
    """Feed one 110 record whose category its adapter does not know (`ajlb`, 0698 unless given)
    with a readable point in 沙坪坝 (unless `zbx`/`zby` say otherwise): a dead letter on the
    stack's `reports.dlq`. Returns the record's reference (`jjdbh`)."""
    record: dict[str, object] = {
        "jjdbh": f"DD-{uuid.uuid4().hex[:10]}", "bjsj": "2026-11-25 09:40:00", "ajlb": "0698", "jqjb": "3",
        "bjnr": "测试警情", "afdz": "", "zbx": 106.45791, "zby": 29.55263, "zbxt": "CGCS2000", **fields,
    }  # fmt: skip
    publisher = Publisher(stack.settings)
    feeder = Feeder(publisher, Ledger(None))
    feeder.feed(Source.POLICE, orjson.dumps(record), Origin(file="cad.json", record="incidents[0]"))
    assert len(feeder.finish().rejected) == 1
    publisher.close()
    return str(record["jjdbh"])
