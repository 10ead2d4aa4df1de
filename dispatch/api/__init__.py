"""The HTTP API for operators, grid workers and agencies (FastAPI; OpenAPI at /openapi.json).

- `auth`      — signed tokens (JWT, HS256) and the caller (`Principal`) they carry;
- `accounts`  — people's logins: operators (password) and grid workers (PIN), salted scrypt;
- `state`     — what the app holds (pool, flows, rules) and the FastAPI dependencies;
- `errors`    — domain errors mapped to HTTP status codes, only here;
- `board`     — the read side: scoped SQL for lists, details, the map, tasks, report status;
- `routes_*`  — the endpoints per role; `app.create_app` assembles them; `cli` starts it.
"""
