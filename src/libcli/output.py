"""The one way `libcli` prints data: JSON for scripts, tables for people, TSV for pipes.

- `--json`: the stable keys documented in the README, UTF-8, one document on stdout.
- a terminal: tabulate tables with headers (wide-character aware for Japanese).
- a pipe: tab-separated rows, no headers, no colour, no decoration.
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
    """A cell the web page shows in red: a title or reservation refused by a rule."""


def _paint(cell: Any, tty: bool) -> str:
    text = clean(cell)
    if isinstance(cell, Refused) and tty and color_enabled():
        return click.style(text, fg="red")
    return text


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
    """Print rows: a table with headers on a terminal, tab-separated lines otherwise."""
    rows = list(rows)
    tty = stderr_is_tty() if err else stdout_is_tty()
    if not rows:
        if empty:
            click.echo(empty, err=True if not tty else err)
        return
    painted = [[_paint(cell, tty) for cell in row] for row in rows]
    if not tty:
        for row in painted:
            click.echo("\t".join(cell.replace("\t", " ") for cell in row), err=err)
        return
    from tabulate import tabulate

    if title:
        click.echo(title, err=err)
    click.echo(tabulate(painted, headers=list(headers), tablefmt="simple"), err=err)


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
