"""The `llmtap` command line: a thin shell over llmtap's Python APIs, one module per command group.

A new command group lives in its own module here and is added to `main` below.
"""

from __future__ import annotations

import click

from llmtap.cli.annotate import annotate
from llmtap.cli.annotations import annotations
from llmtap.cli.demo import demo
from llmtap.cli.doctor import doctor
from llmtap.cli.export import export
from llmtap.cli.labels import labels
from llmtap.cli.purge import purge
from llmtap.cli.queue import queue
from llmtap.cli.routes import routes
from llmtap.cli.show import show
from llmtap.cli.stats import stats
from llmtap.cli.traces import traces
from llmtap.version import __version__


@click.group()
@click.version_option(__version__, "--version", prog_name="llmtap", message="%(prog)s %(version)s")
def main() -> None:
    """llmtap: OpenTelemetry instrumentation for LLM calls, and the loop from traces to labelled data."""


main.add_command(doctor)
main.add_command(labels)
main.add_command(annotations)
main.add_command(annotate)
main.add_command(purge)
main.add_command(traces)
main.add_command(show)
main.add_command(stats)
main.add_command(demo)
main.add_command(routes)
main.add_command(queue)
main.add_command(export)
