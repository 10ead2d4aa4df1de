"""The return-visit flow tests run on the case tests' database and topics (see tests/casework.py)."""

from tests.casework import anyio_backend, cases, cases_engine, district, engine, kafka

__all__ = ["anyio_backend", "cases", "cases_engine", "district", "engine", "kafka"]
