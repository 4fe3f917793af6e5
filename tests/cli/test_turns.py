"""`llmtap show`'s chat turns (`llmtap.cli.turns.Turns`) print exactly what rich's two-column grid prints for them
(`Turns.as_grid()`): the same characters, the same colour codes, at every width, for text that wraps, folds, holds
wide characters, tabs, several lines or nothing."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from llmtap.cli.turns import Turns

LONG = " ".join(["refund", "delivery", "warranty", "subscription"] * 12)
ROWS = [
    ("system", "You are a helpful support assistant for an online shop.", ""),
    ("user", f"Where is my parcel?\n\nDocuments:\n{LONG}", ""),
    ("assistant", LONG, "stop"),
    ("assistant", '→ tool call lookup({"order": "A-17"})  [call_1]', "tool_calls"),
    ("tool", "← tool result [call_1] " + "x" * 150, ""),  # a word longer than the line: folded
    ("document", "doc-7  score 0.91\n配送について" + "注文番号" * 20, ""),  # wide characters
    ("query", "tabs\tin\ttext and trailing spaces   ", ""),
    ("error", "", ""),  # an empty turn
    ("a-role-longer-than-ten", "cut to the column", ""),
    ("two\nlines", "a role of two lines", ""),
    ("user", "emoji 👍🏽 and a joiner 👩‍💻 and a selector ✔️", "length"),
]
STYLES = {"system": "magenta", "user": "green", "assistant": "cyan", "tool": "yellow"}


def turns(rows: list[tuple[str, str, str]]) -> Turns:
    table = Turns()
    for role, content, note in rows:
        text = Text(content)
        if note:
            text.append(f"  ({note})", style="dim")
        table.add_row(Text(role, style=f"bold {STYLES.get(role, 'white')}"), text)
    return table


def printed(renderable: object, width: int, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        height=25,
        force_terminal=terminal,
        color_system="truecolor" if terminal else None,
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )
    console.print(renderable)
    return out.getvalue()


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_every_width_prints_what_rich_grid_prints(terminal: bool) -> None:
    for width in [*range(1, 40), 57, 80, 99, 119, 120, 121, 160, 200, 400]:
        for rows in (ROWS, ROWS[:1], ROWS[7:8], ROWS[5:6], []):
            table = turns(rows)
            assert printed(table, width, terminal) == printed(table.as_grid(), width, terminal), (width, rows)


def test_the_columns() -> None:
    table = turns([("user", "hello there", ""), ("assistant", "hi", "stop")])

    assert printed(table, 80, False) == (
        "      user hello there\n"  # the text column is as wide as its longest turn
        " assistant hi  (stop) \n"  # each line padded to that width
    )
    assert printed(turns([("user", "one two three four", "")]), 20, False) == (
        "      user one two  \n"  # wrapped into the 9 cells left, padded to them
        "           three    \n"
        "           four     \n"
    )
