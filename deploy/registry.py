"""The command-line registrars, in the order they appear in `--help`: the domain packages' own,
the API process's root (`yiwang api`), and the dead-letter desk's commands wired to their ports."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

from deploy import monitor
from deploy.k8s import render as k8s_render
from deploy.processes import api as api_process
from deploy.processes.desk import command_ports
from dispatch.api import cli as api_cli
from dispatch.calendar import cli as calendar_cli
from dispatch.deadletters import cli as dlq_cli
from dispatch.people import cli as people_cli
from dispatch.regrid.cases import open_points
from dispatch.replay import cli as replay_cli
from dispatch.search import cli as search_cli
from dispatch.web import cli as web_cli
from geo import cli as geo_cli
from producers.cli import register as producers_cli
from streams import cli as streams_cli

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

REGISTRARS: tuple[Registrar, ...] = (
    partial(geo_cli.register, open_points=open_points),  # the dry run counts the open cases it moves
    producers_cli,
    streams_cli.register,
    api_process.register,
    api_cli.register,
    calendar_cli.register,
    people_cli.register,
    replay_cli.register,
    search_cli.register,
    partial(dlq_cli.register, wiring=command_ports),
    web_cli.register,
    monitor.register,
    k8s_render.register,
)
