"""`yiwang web build`: build the pages' bundle now (npm ci + esbuild) if its sources changed."""

from __future__ import annotations

import argparse

from config.console import say
from config.settings import Settings
from dispatch.web.bundle import BundleError, ensure_bundle


def _build(settings: Settings, args: argparse.Namespace) -> int:
    try:
        bundle = ensure_bundle()
    except BundleError as exc:
        say(f"error: {exc}")
        return 1
    pages = bundle.manifest["pages"]
    assert isinstance(pages, dict)
    for name, page in pages.items():
        say(f"{name}: {page['bytes'] / 1024:.1f} kB, {page['gzip_bytes'] / 1024:.1f} kB gzipped")
    say(("built " if bundle.built_now else "up to date: ") + str(bundle.dist))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("web", help="the pages' JavaScript bundle (built from npm packages)")
    actions = p.add_subparsers(dest="web_command", required=True, metavar="ACTION")
    b = actions.add_parser("build", help="npm ci + esbuild if the sources changed (the API does it at start)")
    b.set_defaults(func=_build)
