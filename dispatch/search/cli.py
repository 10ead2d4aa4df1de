"""`yiwang search reindex`: the reporters' phone index under the current YIWANG_SEARCH_KEY."""

from __future__ import annotations

import argparse

from config.console import say
from config.settings import Settings
from dispatch.search.reindex import rehash_phones
from geo.cli import geo_engine


def _reindex(settings: Settings, args: argparse.Namespace) -> int:
    engine = geo_engine(settings)
    try:
        with engine.begin() as conn:
            changed = rehash_phones(conn, settings.search_key)
    finally:
        engine.dispose()
    note = (
        " (the development key: set YIWANG_SEARCH_KEY in production)" if settings.uses_dev_search_key else ""
    )
    say(f"search: {changed} report(s) re-hashed{note}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "search",
        help="the case search's phone index",
        description="The reporters' phone index behind GET /search (a keyed hash, never the number).",
    )
    psub = p.add_subparsers(dest="search_command", required=True, metavar="ACTION")
    r = psub.add_parser(
        "reindex",
        help="hash every stored reporter's phone with the current YIWANG_SEARCH_KEY",
        description="Run after changing YIWANG_SEARCH_KEY, or when the schema was migrated without "
        "the key: every report's phone hash is recomputed (unchanged ones are left alone).",
    )
    r.set_defaults(func=_reindex)
