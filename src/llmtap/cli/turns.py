"""The chat turns of `llmtap show`: the role right-aligned in 10 cells, a space, then the text folded into the rest of
the width (as wide as the longest line of a turn, at most the rest of the console's width).

The output, byte for byte and colour for colour, of rich's `Table.grid(padding=(0, 1))` with a column
`(justify="right", width=10, no_wrap=True)` and a column `(overflow="fold")`: tests/cli/test_turns.py compares the
two over tricky text at many widths. Each cell is drawn by rich (`Console.render_lines`, with the options the grid
gives it); only the grid's layout, done here for these two columns, is not: importing `rich.table` (with `fractions`
and `decimal`) and laying a grid out per model call cost each `llmtap show` ~10 ms. A console too narrow for the role
column gets rich's grid itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table
    from rich.text import Text

ROLE_WIDTH = 10
_SIDE = ROLE_WIDTH + 1  # the role column and the space after it


class Turns:
    """Rows of (role, text), rendered as the grid above (`as_grid()` is that grid)."""

    def __init__(self) -> None:
        self.rows: list[tuple[Text, Text]] = []

    def add_row(self, role: Text, text: Text) -> None:
        self.rows.append((role, text))

    def as_grid(self) -> Table:
        from rich.table import Table

        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right", width=ROLE_WIDTH, no_wrap=True)
        table.add_column(overflow="fold")
        for role, text in self.rows:
            table.add_row(role, text)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if width <= _SIDE:  # the grid then narrows the role column too
            yield self.as_grid()
            return
        if not self.rows:
            return
        # The text column: its widest line (the maximum of rich's measure of a `Text`, whose words only bound the
        # minimum), or what the role column leaves.
        widest = max(cell_len(line) for _, text in self.rows for line in text.plain.splitlines() or [""])
        text_width = min(widest or 1, width - _SIDE)
        role_options = options.update(
            width=ROLE_WIDTH, justify="right", no_wrap=True, overflow="ellipsis", height=None, highlight=False
        )
        text_options = options.update(
            width=text_width, justify="left", no_wrap=False, overflow="fold", height=None, highlight=False
        )
        space = Segment(" ")
        blank_role = Segment(" " * _SIDE)
        blank_text = Segment(" " * text_width)
        new_line = Segment.line()
        for role, text in self.rows:
            roles = console.render_lines(role, role_options)
            texts = console.render_lines(text, text_options)
            for index in range(max(len(roles), len(texts))):
                if index < len(roles):
                    yield from roles[index]
                    yield space
                else:
                    yield blank_role
                if index < len(texts):
                    yield from texts[index]
                else:
                    yield blank_text
                yield new_line
