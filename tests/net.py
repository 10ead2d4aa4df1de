"""A port nothing listens on, for a test's own server (or a broker that is away)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port the kernel just handed out and released: free at this instant (a test's server
    binds it at once; the window for another process to take it is tiny and harmless)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
