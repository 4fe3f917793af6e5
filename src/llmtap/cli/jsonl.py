"""Reading the JSON-lines files the `check` commands validate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click


def json_lines(path: Path) -> Iterator[tuple[str, Any]]:
    """(`file:line`, parsed value) for each non-blank line; `click.BadParameter` naming the line if it is not JSON."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise click.BadParameter(f"{where}: not valid JSON ({exc}); expected one object per line") from None
            yield where, item
