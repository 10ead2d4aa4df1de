"""Logins' secrets: the decoy an unknown login is checked against is made at the first such
check, not when the module is imported (scrypt costs tens of milliseconds, in every process)."""

from __future__ import annotations

import subprocess
import sys

from dispatch.api.accounts import decoy_hash, hash_secret, load_accounts, verify_secret

COUNT_SCRYPT_ON_IMPORT = """
import hashlib
calls = []
scrypt = hashlib.scrypt
hashlib.scrypt = lambda *a, **k: calls.append(1) or scrypt(*a, **k)
import dispatch.api.accounts, dispatch.api.routes_volunteers
print(len(calls))
"""


def test_importing_the_accounts_hashes_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", COUNT_SCRYPT_ON_IMPORT], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "0", done.stderr


def test_an_unknown_login_is_checked_against_the_one_decoy() -> None:
    assert decoy_hash() is decoy_hash()  # made once
    assert verify_secret("decoy", decoy_hash()) and not verify_secret("x", decoy_hash())
    accounts = load_accounts()
    assert accounts.operator("nobody-here", "decoy") is None
    assert accounts.desk("nobody-here", "decoy") is None
    assert accounts.worker("nobody-here", "decoy") is False
    assert verify_secret("s3cret", hash_secret("s3cret"))
