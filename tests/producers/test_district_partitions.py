"""A report's partition: its district's range of the report topic (config/districts.toml
`[report_partitions]`), found by the district outline its point falls in; the checks of that
table; and the publisher writing into the range on the real broker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.policy import PolicyError
from config.report_partitions import load_report_partitions, parse_report_partitions
from config.settings import Settings
from config.topics import TopicSpec, load_topics
from geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from geo.reference import load_reference
from producers.district_partitions import DistrictPartitions, shipped_partitions
from producers.publisher import Publisher
from schemas.report import Area, Crs, Geocode, Location, Report, Source
from tests.reports import canonical_report

SHAPINGBA, JIULONGPO = "500106", "500107"
INSIDE = {SHAPINGBA: (106.456, 29.542), JIULONGPO: (106.511, 29.506)}
OUTSIDE = (106.58, 29.56)  # 渝中区: outside both


def report(location: Location, ref: str = "HL-20260101-0001", source: Source = Source.HOTLINE) -> Report:
    return canonical_report(location, ref=ref, at=datetime(2026, 1, 1, 2, tzinfo=UTC), source=source)


@pytest.fixture(scope="module")
def chooser() -> DistrictPartitions:
    return shipped_partitions()


@pytest.mark.parametrize("code", [SHAPINGBA, JIULONGPO])
@pytest.mark.parametrize("crs", list(Crs))
def test_a_point_goes_to_its_districts_range_in_any_declared_crs(
    chooser: DistrictPartitions, code: str, crs: Crs
) -> None:
    lon, lat = INSIDE[code]
    declared = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}.get(crs, lambda x, y: (x, y))(lon, lat)
    r = report(Location(lon=declared[0], lat=declared[1], crs=crs))
    assert chooser.district_of(r.location) == code
    assert chooser.partition_for(r, 6) in load_report_partitions().range_of(code)


def test_outside_every_district_or_without_a_point_goes_to_the_city_range(
    chooser: DistrictPartitions,
) -> None:
    city = load_report_partitions().range_of("city")
    outside = report(Location(lon=OUTSIDE[0], lat=OUTSIDE[1], crs=Crs.WGS84))
    no_point = report(Location(address="小龙坎正街1号"))
    assert [chooser.partition_for(r, 6) in city for r in (outside, no_point)] == [True, True]


def test_an_address_naming_a_district_places_a_report_without_a_point(chooser: DistrictPartitions) -> None:
    named = [Location(address="重庆市九龙坡区景苑巷2号3栋"), Location(address="重庆市沙坪坝区学府支路6号")]
    assert [chooser.district_of(loc) for loc in named] == [JIULONGPO, SHAPINGBA]


def test_an_address_naming_a_street_or_community_of_one_district_places_it_there(
    chooser: DistrictPartitions,
) -> None:
    """The gazetteer's rule (`CityNames`): street and community names one district has say it; a
    name both have, names of two districts, or a bare road leave the report to the city's range."""
    spb, jlp = load_reference("shapingba"), load_reference("jiulongpo")
    spb_communities, jlp_communities = {c.name for c in spb.communities}, {c.name for c in jlp.communities}
    own = {
        SHAPINGBA: sorted(spb_communities - jlp_communities)[0],
        JIULONGPO: sorted(jlp_communities - spb_communities)[0],
    }
    for code, d in ((SHAPINGBA, spb), (JIULONGPO, jlp)):
        street = d.streets[0].name
        for text in (f"{street}景苑巷2号", f"{street}办事处{own[code]}1号", f"{own[code]}1号"):
            assert chooser.district_of(Location(address=text)) == code, text
    shared = sorted(spb_communities & jlp_communities)[0]
    for text in (f"{shared}3号", f"沙坪坝区{jlp.streets[0].name}1号", "景苑巷2号九龙坡区"):
        assert chooser.district_of(Location(address=text)) == "city", text


def test_a_cap_geocode_places_a_report_without_a_point(chooser: DistrictPartitions) -> None:
    area = Area(geocodes=[Geocode(name="行政区划代码", value="500107003000")])
    assert chooser.district_of(Location(address="九龙坡区", area=area)) == JIULONGPO


def test_the_shipped_outlines_hold_their_districts_buildings(chooser: DistrictPartitions) -> None:
    """The hint agrees with the intake's placement for (nearly) every address the simulator uses."""
    for name, code in (("shapingba", SHAPINGBA), ("jiulongpo", JIULONGPO)):
        buildings = load_reference(name).buildings[::50]
        hinted = [chooser.district_of(Location(lon=b.lon, lat=b.lat, crs=Crs.WGS84)) for b in buildings]
        assert hinted.count(code) / len(hinted) > 0.99, name


def test_one_records_versions_stay_in_one_partition_spread_over_the_range(
    chooser: DistrictPartitions,
) -> None:
    keys = [f"HL-{i}".encode() for i in range(400)]
    first = [chooser.partition_of(JIULONGPO, k, 6) for k in keys]
    assert first == [chooser.partition_of(JIULONGPO, k, 6) for k in keys]
    assert {first.count(p) > 120 for p in (2, 3)} == {True}


def test_a_topic_with_fewer_partitions_than_the_ranges_keeps_kafkas_default(
    chooser: DistrictPartitions,
) -> None:
    assert chooser.partition_of(JIULONGPO, b"HL-1", 3) is None


def _topics(partitions: int) -> tuple[TopicSpec, ...]:
    return (TopicSpec("reports.hotline", partitions, -1), TopicSpec("reports.dlq", 1, -1))


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (None, "a table of district code"),
        ({"500106": [0, 1]}, "`city` is required"),
        ({"500106": [0, 1], "city": [1, 2]}, "city: partition 1 is 500106's too"),
        ({"500106": [2, 1], "city": [3, 3]}, "500106: expected [first, last]"),
        ({"500106": "0-1", "city": [3, 3]}, "500106: expected [first, last]"),
        ({"500106": [0, 1], "city": [2, 9]}, "topic reports.hotline has 6 partitions; the ranges need 10"),
    ],
)
def test_a_bad_table_is_refused_naming_the_entry(table: object, expected: str) -> None:
    with pytest.raises(PolicyError, match="report_partitions") as info:
        parse_report_partitions(table, _topics(6))
    assert expected in str(info.value)


def test_the_shipped_table_fits_the_declared_topics() -> None:
    shares = load_report_partitions()
    assert shares.needed <= min(
        s.partitions for s in load_topics() if s.name.startswith("reports.") and s.name != "reports.dlq"
    )
    assert set(shares.districts) == {SHAPINGBA, JIULONGPO}


@pytest.mark.kafka
def test_the_publisher_writes_each_report_into_its_districts_partitions(kafka: Settings) -> None:
    shares = load_report_partitions()
    publisher = Publisher(kafka, linger_ms=5)
    try:
        sent = {
            code: [
                publisher.send_report(report(Location(lon=lon, lat=lat, crs=Crs.WGS84), ref=f"{code}-{i}"))
                for i in range(20)
            ]
            for code, (lon, lat) in (*INSIDE.items(), ("city", OUTSIDE))
        }
        publisher.flush(10)
        landed = {code: {f.get(timeout=10).partition for f in futures} for code, futures in sent.items()}
    finally:
        publisher.close()
    assert landed == {code: set(shares.range_of(code)) for code in landed}
