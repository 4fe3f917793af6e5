"""The `llmtap` command line: a thin shell over llmtap's Python APIs, one module per command group.

A new command group lives in its own module here and is named in `COMMANDS` below. A command's module is imported
only when that command runs (or `--help` lists them all): `llmtap traces` does not pay for `demo`'s imports.
"""

from __future__ import annotations

import importlib

import click

from llmtap.version import __version__

# command name -> "module:attribute" of its click command
COMMANDS = {
    "annotate": "llmtap.cli.annotate:annotate",
    "annotations": "llmtap.cli.annotations:annotations",
    "demo": "llmtap.cli.demo:demo",
    "doctor": "llmtap.cli.doctor:doctor",
    "export": "llmtap.cli.export:export",
    "labels": "llmtap.cli.labels:labels",
    "purge": "llmtap.cli.purge:purge",
    "queue": "llmtap.cli.queue:queue",
    "routes": "llmtap.cli.routes:routes",
    "show": "llmtap.cli.show:show",
    "stats": "llmtap.cli.stats:stats",
    "traces": "llmtap.cli.traces:traces",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, attribute = COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup)
@click.version_option(__version__, "--version", prog_name="llmtap", message="%(prog)s %(version)s")
def main() -> None:
    """llmtap: OpenTelemetry instrumentation for LLM calls, and the loop from traces to labelled data."""
