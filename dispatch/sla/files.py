"""Reading a policy file: the one reader of config/ (kept under this name for the sla modules)."""

from __future__ import annotations

from config.policy import read_toml as read_policy

__all__ = ["read_policy"]
