"""Every `yiwang` subcommand's --help says what it does and shows its options' defaults."""

from __future__ import annotations

import argparse
import re

import pytest

from deploy.cli import build_parser, subcommands

COMMANDS = [(words, sub, text) for words, sub, text in subcommands(build_parser())]


def _meaningful_default(action: argparse.Action) -> bool:
    return bool(action.option_strings) and action.default not in (None, False, "", argparse.SUPPRESS)


def test_the_walk_finds_the_commands() -> None:
    names = {" ".join(words) for words, _, _ in COMMANDS}
    assert {"status", "run", "worker", "api", "search reindex", "dlq replay", "people import"} <= names
    assert len(names) > 40


@pytest.mark.parametrize(("words", "sub", "text"), COMMANDS, ids=[" ".join(w) for w, _, _ in COMMANDS])
def test_every_subcommand_describes_itself_and_its_defaults(
    words: list[str], sub: argparse.ArgumentParser, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert text, f"`yiwang {' '.join(words)}` has no one-line help in its parent's list"
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*words, "--help"])  # (main would hand `test --help` to pytest)
    assert done.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert sub.description and " ".join(sub.description.split()) in shown
    for action in sub._actions:
        if _meaningful_default(action):
            help_line = sub._get_formatter()._get_help_string(action) or ""
            assert "default" in help_line, (words, action.option_strings)
            if "%(default)s" in help_line:
                assert re.search(rf"\(default: {re.escape(str(action.default))}\)", shown), (
                    action.option_strings
                )
