"""The feed declarations' `public` flag: which sources' cases may ever be listed publicly."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from config.policy import CONFIG_DIR, PolicyError, load_taxonomy
from producers.sources import load_sources, parse_sources
from schemas.report import Source


def _shipped() -> dict[str, Any]:
    return tomllib.loads((CONFIG_DIR / "sources.toml").read_text())


def test_police_fire_and_cyberspace_are_never_public() -> None:
    private = {s for s, c in load_sources().items() if not c.public}
    assert private == {Source.POLICE, Source.FIRE, Source.CYBERSPACE}


def test_public_must_be_a_boolean() -> None:
    doc = _shipped()
    doc["source"]["hotline"]["public"] = "no"
    with pytest.raises(PolicyError, match=r"\[source.hotline\]: public must be true or false"):
        parse_sources(doc, load_taxonomy())
