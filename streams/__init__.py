"""Stream processors (faust-streaming): intake, routing, SLA tracking.

Agents do I/O and call pure functions from `geo/` and `dispatch/`. The app is built by
`streams.app.create_app`, never at import time.
"""
