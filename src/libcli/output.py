"""The one way `libcli` prints data: JSON for scripts, tables for people, TSV for pipes.

- `--json [FIELDS]`: the keys of the command's view (libcli/views.py), UTF-8, one document
  on stdout (`views.Output.emit`).
- a terminal: tabulate tables with headers, fitted to the terminal's width: the cells of
  long-text columns (titles, authors, verdicts) are shortened with … , wide characters
  counting two columns.
- a pipe: tab-separated rows, whole, no headers, no colour, no decoration.
Text that came from the server is passed through `clean()` so that escape sequences and
control characters cannot move the cursor or recolour the patron's terminal.
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import click

#: Columns between two columns of a table (tabulate's "simple" format).
COLUMN_GAP = 2
#: A long-text column is not shortened below this many columns (or its header's width).
MIN_LONG_WIDTH = 8

# Bidirectional overrides and isolates can reorder what the terminal shows.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}


def clean(value: Any) -> str:
    """`value` as text with control, escape and bidi-override characters made visible."""
    if value is None:
        return ""
    text = str(value)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def stdout_is_tty() -> bool:
    return _isatty(sys.stdout)


def stdin_is_tty() -> bool:
    return _isatty(sys.stdin)


def stderr_is_tty() -> bool:
    return _isatty(sys.stderr)


def color_enabled() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return not os.environ.get("NO_COLOR") and stdout_is_tty()


class Refused(str):
    """A cell shown in red on a colour terminal: a title or reservation the server refused."""


class LongText(str):
    """A column header whose cells may be shortened with … to fit the terminal."""


def _paint(cell: Any, text: str, tty: bool) -> str:
    if isinstance(cell, Refused) and tty and color_enabled():
        return click.style(text, fg="red")
    return text


def terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


def fit(headers: Sequence[str], rows: list[list[str]], width: int) -> list[list[str]]:
    """Shorten the cells of LongText columns, widest column first, until the table is no
    wider than `width` (or no long column can give more)."""
    from libcli.textwidth import display_width, shorten

    if not rows:
        return rows
    natural = [
        max([display_width(h), *(display_width(r[i]) for r in rows)]) for i, h in enumerate(headers)
    ]
    excess = sum(natural) + COLUMN_GAP * (len(headers) - 1) - width
    limits = list(natural)
    floors = {
        i: min(natural[i], max(display_width(h), MIN_LONG_WIDTH))
        for i, h in enumerate(headers)
        if isinstance(h, LongText)
    }
    while excess > 0:
        room = [i for i, floor in floors.items() if limits[i] > floor]
        if not room:
            break
        widest = max(room, key=lambda i: limits[i])
        limits[widest] -= 1
        excess -= 1
    return [
        [shorten(cell, limits[i]) if i in floors else cell for i, cell in enumerate(row)]
        for row in rows
    ]


def emit_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    # json escapes C0 but not DEL, C1 (U+009B is a CSI on many terminals) or bidi
    # overrides; as \uXXXX they stay the same string for a JSON reader.
    click.echo("".join(_json_safe(ch) for ch in text))


def _json_safe(ch: str) -> str:
    if ch in _BIDI or ("\x7f" <= ch <= "\x9f"):
        return f"\\u{ord(ch):04x}"
    return ch


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    empty: str | None = None,
    title: str | None = None,
    err: bool = False,
) -> None:
    """Print rows: a table with headers fitted to a terminal, tab-separated lines otherwise.

    Headers that are `LongText` mark the columns that may be shortened to fit.
    """
    rows = [list(row) for row in rows]
    tty = stderr_is_tty() if err else stdout_is_tty()
    if not rows:
        if empty:
            click.echo(empty, err=True if not tty else err)
        return
    texts = [[clean(cell) for cell in row] for row in rows]
    if not tty:
        for row, text in zip(rows, texts, strict=True):
            cells = (_paint(c, t, tty).replace("\t", " ") for c, t in zip(row, text, strict=True))
            click.echo("\t".join(cells), err=err)
        return
    fitted = fit(headers, texts, terminal_width())
    painted = [
        [_paint(c, t, tty) for c, t in zip(row, text, strict=True)]
        for row, text in zip(rows, fitted, strict=True)
    ]
    if title:
        click.echo(title, err=err)
    click.echo(_tabulate(painted, [str(h) for h in headers]), err=err)


def _tabulate(rows: list[list[str]], headers: list[str]) -> str:
    import tabulate

    # tabulate widens every column by two beyond its header; `fit` measured without that.
    saved, tabulate.MIN_PADDING = tabulate.MIN_PADDING, 0
    try:
        return tabulate.tabulate(rows, headers=headers, tablefmt="simple")
    finally:
        tabulate.MIN_PADDING = saved


def say(message: str, *, err: bool = False) -> None:
    """One line for the patron (status messages go to stderr when piped data is on stdout)."""
    click.echo(clean_lines(message), err=err)


def refused(message: str, *, err: bool = False) -> None:
    text = clean_lines(message)
    tty = stderr_is_tty() if err else stdout_is_tty()
    if tty and not os.environ.get("NO_COLOR"):
        text = click.style(text, fg="red")
    click.echo(text, err=err)


def clean_lines(message: str) -> str:
    return "\n".join(clean(line) for line in str(message).split("\n"))


def warn(message: str) -> None:
    click.echo(clean_lines(message), err=True)


def flush() -> None:
    sys.stdout.flush()
