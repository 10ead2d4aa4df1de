"""People's logins: operators with a password, grid workers with a PIN; never in plain text.

`config/accounts.toml` (or `settings.accounts_file`) seeds development accounts with salted
scrypt hashes (`scrypt$n$r$p$salt$hash`, hex; `yiwang hash-secret` makes one). Grid workers'
real PINs are issued by `yiwang people import` / `reset-pin` and kept (hashed) in PostgreSQL.
Agencies do not log in: they get a token from `yiwang token --role agency --source …` (and use
their api_key on Open311).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from config.policy import CONFIG_DIR, PolicyError, read_toml

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


@dataclass(frozen=True, slots=True)
class Accounts:
    operators: dict[str, OperatorAccount]
    worker_pins: dict[str, str]  # worker id -> PIN hash

    def operator(self, login: str, password: str) -> OperatorAccount | None:
        account = self.operators.get(login)
        # hash even for an unknown login, so timing does not tell which logins exist
        stored = account.password if account else _DECOY
        ok = verify_secret(password, stored)
        return account if ok and account is not None else None

    def worker(self, worker_id: str, pin: str, issued: str | None = None) -> bool:
        """`issued`: the PIN hash in the database (`yiwang people import`/`reset-pin`), which
        wins over this file's development PINs."""
        stored = issued or self.worker_pins.get(worker_id)
        ok = verify_secret(pin, stored or _DECOY)
        return ok and stored is not None


_DECOY = hash_secret("decoy", salt=b"\0" * 16)


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
        street = entry.get("street")
        operators[login] = OperatorAccount(login, str(entry.get("name", login)), street or None, password)
    pins: dict[str, str] = {}
    for i, entry in enumerate(doc.get("worker", [])):
        worker_id, pin = entry.get("worker_id"), entry.get("pin")
        if not isinstance(worker_id, str) or not isinstance(pin, str) or not pin.startswith("scrypt$"):
            raise PolicyError(f"{where}: worker[{i}] needs 'worker_id' and 'pin' (a scrypt hash)")
        pins[worker_id] = pin
    return Accounts(operators, pins)
