"""The surge tests run on a database and topics of their own (see tests/casework.py)."""

from tests.casework import anyio_backend, cases, cases_engine, district, engine, kafka

__all__ = ["anyio_backend", "cases", "cases_engine", "district", "engine", "kafka"]
