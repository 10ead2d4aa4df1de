"""`yiwang token` and `yiwang hash-secret`; `yiwang api` is the API process's root
(`deploy/processes/api.py`)."""

from __future__ import annotations

import argparse
import getpass
import logging
from datetime import timedelta

from config.settings import Settings
from dispatch.api.accounts import hash_secret
from dispatch.api.auth import ApiRole, Principal, issue_token
from dispatch.scope import Scope, ScopeError

log = logging.getLogger(__name__)


def principal_from(args: argparse.Namespace) -> Principal:
    role = ApiRole(args.role)
    if role is ApiRole.GRID_WORKER:
        if not args.worker:
            raise SystemExit("yiwang token: --role grid_worker needs --worker ID")
        return Principal(role, args.worker)
    if role is ApiRole.AGENCY:
        if not args.source:
            raise SystemExit("yiwang token: --role agency needs --source SOURCE")
        return Principal(role, args.source)
    if role is ApiRole.PARTNER:
        if not args.name:
            raise SystemExit("yiwang token: --role partner needs --name PARTNER_ID")
        return Principal(role, args.name)
    if role is ApiRole.VOLUNTEER:
        raise SystemExit("yiwang token: volunteers log in on /v with their phone number and PIN")
    if role is ApiRole.CITY_OPERATOR:
        if args.street or args.district:
            raise SystemExit("yiwang token: a city operator sees every district: no --district or --street")
        return Principal(role, args.name or "city")
    if role is ApiRole.OPERATOR:
        if not (args.district or args.street):
            raise SystemExit("yiwang token: --role operator needs --district CODE (or --street CODE)")
        try:
            scope = Scope(args.district, args.street)
        except ScopeError as exc:
            raise SystemExit(f"yiwang token: {exc}") from None
        login = args.name or (f"street-{scope.street}" if scope.street else f"district-{scope.district}")
        return Principal(role, login, scope.street, district=scope.district)
    raise SystemExit(f"yiwang token: --role {role} logs in (POST /auth/login) or is not a token's role")


def _token(settings: Settings, args: argparse.Namespace) -> int:
    if settings.uses_dev_jwt_secret:
        log.warning("signing with the development secret; set YIWANG_JWT_SECRET in production")
    ttl = timedelta(seconds=args.ttl) if args.ttl else None
    print(issue_token(settings, principal_from(args), ttl=ttl))
    return 0


def _hash(settings: Settings, args: argparse.Namespace) -> int:
    secret = getpass.getpass("password or PIN: ")
    print(hash_secret(secret))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("token", help="issue an API token (signed with YIWANG_JWT_SECRET)")
    p.add_argument("--role", required=True, choices=[r.value for r in ApiRole])
    p.add_argument("--worker", help="grid_worker: the worker id")
    p.add_argument("--district", help="operator: the district's code (implied by --street)")
    p.add_argument("--street", help="operator: one street's code (omit: the whole district)")
    p.add_argument("--source", help="agency: its source code (hotline, police, ...)")
    p.add_argument("--name", help="operator: the login the token names; partner: its id")
    p.add_argument("--ttl", type=int, default=None, help="lifetime in seconds (default: YIWANG_TOKEN_TTL_S)")
    p.set_defaults(func=_token)

    p = sub.add_parser("hash-secret", help="print the salted scrypt hash of a password or PIN (accounts)")
    p.set_defaults(func=_hash)
