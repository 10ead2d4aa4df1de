"""The SQLAlchemy metadata of every domain package, for Alembic and schema checks.

Each domain keeps its own declarative base (geo, dispatch, notices, positions, volunteers,
the Open311 intake); this is the one place that knows them all.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from dispatch.alerts import models as _alert_tables  # noqa: F401 - registers the tables
from dispatch.deadletters import models as _deadletter_tables  # noqa: F401 - registers the tables
from dispatch.models import DispatchBase
from dispatch.notices.models import NoticeBase
from dispatch.people import models as _people_tables  # noqa: F401 - registers the tables
from dispatch.positions.models import PositionBase
from dispatch.residents import models as _resident_tables  # noqa: F401 - registers the tables
from dispatch.reveals import models as _reveal_tables  # noqa: F401 - registers the tables
from dispatch.revisits import models as _revisit_tables  # noqa: F401 - registers the tables
from dispatch.surge import models as _surge_tables  # noqa: F401 - registers the tables
from dispatch.volunteers.models import VolunteerBase
from geo.models import GeoBase
from producers.open311.models import Open311Base


def all_metadata() -> list[MetaData]:
    return [
        GeoBase.metadata,
        DispatchBase.metadata,
        NoticeBase.metadata,
        PositionBase.metadata,
        VolunteerBase.metadata,
        Open311Base.metadata,
    ]
