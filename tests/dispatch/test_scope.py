"""The scope object: its Python check and its SQL clause say the same thing, for the city, a
district, a street and a community, over rows that name their areas at different levels."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.scope import CITY, Level, Scope, ScopeError

SHAPINGBA_GRID = {"district_code": "500106", "street_code": "500106001", "grid_code": "500106001002003"}
JIULONGPO_CASE = {"district_code": "500107", "street_code": "500107004", "community_code": "500107004001"}
UNPLACED_IN_SHAPINGBA = {"district_code": "500106", "street_code": None, "grid_code": None}
CITY_DESK = {"district_code": "city", "street_code": None}
ROWS = [SHAPINGBA_GRID, JIULONGPO_CASE, UNPLACED_IN_SHAPINGBA, CITY_DESK]


@pytest.mark.parametrize(
    ("scope", "admitted"),
    [
        (CITY, [True, True, True, True]),
        (Scope(district="500106"), [True, False, True, False]),
        (Scope(district="500107"), [False, True, False, False]),
        (Scope(street="500106001"), [True, False, False, False]),
        (Scope(community="500107004001"), [False, True, False, False]),
        (Scope(community="500106001002"), [True, False, False, False]),
    ],
)
def test_the_python_check_admits_by_the_finest_code_a_row_names(scope: Scope, admitted: list[bool]) -> None:
    assert [scope.admits(r) for r in ROWS] == admitted


def test_a_finer_code_implies_the_coarser_and_must_nest() -> None:
    assert Scope(street="500107001") == Scope("500107", "500107001")
    assert Scope(community="500106001002").street == "500106001"
    assert Scope(community="500106001002").level is Level.COMMUNITY
    with pytest.raises(ScopeError, match="district") as bad:
        Scope(district="500107", street="500106001")
    assert bad.value.field == "district"
    with pytest.raises(ScopeError, match="street"):
        Scope(street="500106001", community="500106002001")
    for field, code in (("district", "5001"), ("street", "50010600x"), ("community", "500106001")):
        with pytest.raises(ScopeError, match=field):
            Scope(**{field: code})


def test_a_filter_outside_the_scope_is_refused_naming_it() -> None:
    jlp = Scope(district="500107")
    jlp.check("street", "500107002")
    jlp.check("grid", "500107002001001")
    jlp.check("street", None)
    with pytest.raises(ScopeError, match="street: 500106001 is outside your scope") as bad:
        jlp.check("street", "500106001")
    assert bad.value.field == "street"
    CITY.check("street", "500106001")
    assert not Scope(street="500106001").covers(None) and CITY.covers(None)


def _sql(clause: Any) -> str:
    return str(clause.as_string())


def test_the_sql_clause_names_the_level_or_a_prefix_of_a_finer_column() -> None:
    assert _sql(CITY.where()) == "TRUE"
    assert _sql(Scope(district="500107").where("i")) == '"i"."district_code" = \'500107\''
    assert _sql(Scope(street="500106001").where("i")) == '"i"."street_code" = \'500106001\''
    people = {Level.STREET: "street_code", Level.COMMUNITY: "community_code"}
    assert _sql(Scope(district="500106").where("w", people)) == 'left("w"."street_code", 6) = \'500106\''
    with pytest.raises(ScopeError, match="no area"):
        Scope(community="500106001002").where("s", {Level.DISTRICT: "district_code", Level.STREET: "code"})
