"""People's logins: operators and the ladder's desks with a password, grid workers with a PIN;
never in plain text.

`config/accounts.toml` (or `settings.accounts_file`) seeds development accounts with salted
scrypt hashes (`scrypt$n$r$p$salt$hash`, hex; `yiwang hash-secret` makes one). An operator
works in one `district` (and, with `street`, one street of it); a `role = "city_operator"`
account (城市运行管理中心) sees every district and names none. Grid workers'
real PINs are issued by `yiwang people import` / `reset-pin` and kept (hashed) in PostgreSQL.
Agencies do not log in: they get a token from `yiwang token --role agency --source …` (and use
their api_key on Open311).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR, PolicyError, read_toml
from dispatch.api.auth import ApiRole, Principal
from dispatch.notices.models import Desk, DeskError
from dispatch.scope import Scope, ScopeError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


@dataclass(frozen=True, slots=True)
class OperatorAccount:
    login: str
    name: str
    street: str | None  # None: the whole district
    password: str  # the stored hash
    district: str | None = None  # None: the whole city (a city operator)

    def principal(self) -> Principal:
        if self.district is None:
            return Principal(ApiRole.CITY_OPERATOR, self.login)
        return Principal(ApiRole.OPERATOR, self.login, self.street, district=self.district)


@dataclass(frozen=True, slots=True)
class DeskAccount:
    login: str
    name: str
    desk: str  # `<level>:<code>`, e.g. community_lead:500106001001
    password: str  # the stored hash


@dataclass(frozen=True, slots=True)
class Accounts:
    operators: dict[str, OperatorAccount]
    worker_pins: dict[str, str]  # worker id -> PIN hash
    desks: dict[str, DeskAccount] = field(default_factory=dict)

    def desk(self, login: str, password: str) -> DeskAccount | None:
        account = self.desks.get(login)
        ok = verify_secret(password, account.password if account else decoy_hash())
        return account if ok and account is not None else None

    def operator(self, login: str, password: str) -> OperatorAccount | None:
        account = self.operators.get(login)
        # hash even for an unknown login, so timing does not tell which logins exist
        stored = account.password if account else decoy_hash()
        ok = verify_secret(password, stored)
        return account if ok and account is not None else None

    def worker(self, worker_id: str, pin: str, issued: str | None = None) -> bool:
        """`issued`: the PIN hash in the database (`yiwang people import`/`reset-pin`), which
        wins over this file's development PINs."""
        stored = issued or self.worker_pins.get(worker_id)
        ok = verify_secret(pin, stored or decoy_hash())
        return ok and stored is not None


@cache
def decoy_hash() -> str:
    """What an unknown login's or worker's secret is checked against, so that timing does not
    tell which exist: made at the first such check (one scrypt), not when the module is imported
    (every process and test imports it)."""
    return hash_secret("decoy", salt=b"\0" * 16)


def _operator(where: Path, login: str, entry: dict[str, Any], password: str) -> OperatorAccount:
    """An operator account: a district's (and maybe one street's), or the city's."""
    role, street, district = entry.get("role", "operator"), entry.get("street") or None, entry.get("district")
    if role == ApiRole.CITY_OPERATOR:
        if street is not None or district is not None:
            raise PolicyError(f"{where}: operator {login!r}: a city operator names no district or street")
        return OperatorAccount(login, str(entry.get("name", login)), None, password)
    if role != ApiRole.OPERATOR:
        raise PolicyError(f"{where}: operator {login!r}: 'role' is operator or city_operator, not {role!r}")
    if not isinstance(district, str) or (street is not None and not isinstance(street, str)):
        raise PolicyError(f"{where}: operator {login!r}: 'district' (a district code) is required")
    try:
        scope = Scope(district, street)
    except ScopeError as exc:
        raise PolicyError(f"{where}: operator {login!r}: {exc}") from None
    return OperatorAccount(login, str(entry.get("name", login)), scope.street, password, scope.district)


def load_accounts(path: Path | None = None) -> Accounts:
    where = path or CONFIG_DIR / "accounts.toml"
    doc = read_toml(where)
    operators: dict[str, OperatorAccount] = {}
    for i, entry in enumerate(doc.get("operator", [])):
        login, password = entry.get("login"), entry.get("password")
        if not isinstance(login, str) or not login or not isinstance(password, str):
            raise PolicyError(f"{where}: operator[{i}] needs 'login' and 'password' (a scrypt hash)")
        if not password.startswith("scrypt$"):
            raise PolicyError(
                f"{where}: operator {login!r}: 'password' must be a scrypt hash, not plain text"
            )
        operators[login] = _operator(where, login, entry, password)
    pins: dict[str, str] = {}
    for i, entry in enumerate(doc.get("worker", [])):
        worker_id, pin = entry.get("worker_id"), entry.get("pin")
        if not isinstance(worker_id, str) or not isinstance(pin, str) or not pin.startswith("scrypt$"):
            raise PolicyError(f"{where}: worker[{i}] needs 'worker_id' and 'pin' (a scrypt hash)")
        pins[worker_id] = pin
    desks: dict[str, DeskAccount] = {}
    for i, entry in enumerate(doc.get("desk", [])):
        login, password, desk = entry.get("login"), entry.get("password"), entry.get("desk")
        if not isinstance(login, str) or not login or not isinstance(password, str):
            raise PolicyError(f"{where}: desk[{i}] needs 'login' and 'password' (a scrypt hash)")
        if not password.startswith("scrypt$") or login in operators:
            raise PolicyError(f"{where}: desk {login!r}: a scrypt hash and a login no operator uses")
        try:
            name = str(Desk.parse(str(desk)))
        except DeskError as exc:
            raise PolicyError(f"{where}: desk[{i}].desk: {exc}") from None
        desks[login] = DeskAccount(login, str(entry.get("name", login)), name, password)
    return Accounts(operators, pins, desks)
