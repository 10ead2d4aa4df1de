from tests.casework import anyio_backend, district

__all__ = ["anyio_backend", "district"]
