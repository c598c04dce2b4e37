"""Text measured as a terminal shows it: a wide character (漢字, かな, full-width forms) takes
two columns, a combining mark none. Help is wrapped and table cells are shortened by this
measure, so Japanese lines fit the terminal instead of overflowing it.

Lines break at spaces, and between two characters when either is wide (Japanese has no
spaces between words), but never before closing punctuation (、。）」…) or after an
opening bracket (（「). Stdlib only: `--help` uses it.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
#: Never at the start of a line (行頭禁則).
_NO_BREAK_BEFORE = frozenset(
    "、。，．,.)]｝）〕〉》」』】〙〗〟’”ゝゞー々〻‐゠–〜？！?!‼⁇⁈⁉・：；:;…‥"
    "ァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖ"
)
#: Never at the end of a line (行末禁則).
_NO_BREAK_AFTER = frozenset("([｛（〔〈《「『【〘〖〝‘“")


def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal (no escape sequences expected)."""
    if text.isascii():
        return len(text)
    return sum(char_width(ch) for ch in text)


def shorten(text: str, width: int) -> str:
    """`text` cut to `width` columns, ending in … when something was cut."""
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ELLIPSIS


def _chunks(text: str) -> list[str]:
    """Pieces of `text` between which a line may break; runs of spaces are pieces too."""
    chunks: list[str] = []
    for ch in text:
        if not chunks:
            chunks.append(ch)
            continue
        last = chunks[-1]
        prev = last[-1]
        if ch.isspace() != prev.isspace():
            breakable = True
        elif ch.isspace():
            breakable = False
        else:
            breakable = char_width(ch) == 2 or char_width(prev) == 2
        if ch in _NO_BREAK_BEFORE or prev in _NO_BREAK_AFTER:
            breakable = breakable and (ch.isspace() or prev.isspace())
        if breakable:
            chunks.append(ch)
        else:
            chunks[-1] = last + ch
    return chunks


def wrap(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "") -> list[str]:
    """Lines of at most `width` columns (indents included), like textwrap.wrap."""
    lines: list[str] = []
    line: list[str] = []
    indent = initial_indent
    room = max(width - display_width(indent), 1)
    used = 0

    def finish() -> None:
        nonlocal line, used, indent, room
        while line and line[-1].isspace():
            line.pop()
        lines.append(indent + "".join(line))
        line, used = [], 0
        indent = subsequent_indent
        room = max(width - display_width(indent), 1)

    pieces = _chunks(" ".join(text.split()))
    pieces.reverse()
    while pieces:
        piece = pieces.pop()
        size = display_width(piece)
        if piece.isspace():
            if line:
                line.append(piece)
                used += size
            continue
        if used + size <= room:
            line.append(piece)
            used += size
        elif size > room and not line:
            # A piece wider than a whole line (a long URL): cut it where the line ends.
            head = shorten(piece, room + 1)[:-1] or piece[0]
            line.append(head)
            pieces.append(piece[len(head) :])
            finish()
        else:
            finish()
            pieces.append(piece)
    if line or not lines:
        finish()
    return lines
