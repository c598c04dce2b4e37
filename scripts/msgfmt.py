#!/usr/bin/env python3
"""Compile the gettext catalogues (`.po` -> `.mo`) without Babel or GNU gettext.

    python scripts/msgfmt.py          # rewrite src/libcli/locale/*/LC_MESSAGES/libcli.mo
    python scripts/msgfmt.py --check  # exit 1 if a shipped .mo differs from its .po

The output is deterministic (sorted keys, no hash table), so the test can compare bytes.
Plural entries are not used by libcli and are rejected.
"""

from __future__ import annotations

import ast
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "src" / "libcli" / "locale"


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr (fuzzy and untranslated entries are left out, like msgfmt)."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal msgid, msgstr, fuzzy
        if msgid is not None and msgstr is not None:
            key, value = "".join(msgid), "".join(msgstr)
            if value and not fuzzy:
                entries[key] = value
        msgid = msgstr = None
        fuzzy = False

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            flush()
            fuzzy = True
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith(("msgid_plural", "msgstr[", "msgctxt")):
            raise ValueError(f"line {lineno}: plural forms and contexts are not supported")
        if line.startswith("msgid "):
            if msgstr is not None:
                keep_fuzzy = fuzzy
                flush()
                fuzzy = keep_fuzzy
            msgid, current = [], None
            current = msgid
            line = line[len("msgid ") :]
        elif line.startswith("msgstr "):
            msgstr = []
            current = msgstr
            line = line[len("msgstr ") :]
        if current is None or not line.startswith('"'):
            raise ValueError(f"line {lineno}: cannot parse {raw!r}")
        current.append(ast.literal_eval(line))
    flush()
    return entries


def make_mo(entries: dict[str, str]) -> bytes:
    """The GNU .mo format: header, two offset tables, then the strings."""
    keys = sorted(entries)
    ids = [k.encode("utf-8") for k in keys]
    strs = [entries[k].encode("utf-8") for k in keys]
    count = len(keys)
    header_size = 7 * 4
    ids_table = header_size
    strs_table = ids_table + count * 8
    data_start = strs_table + count * 8
    offsets: list[tuple[int, int]] = []
    blob = b""
    for item in ids + strs:
        offsets.append((len(item), data_start + len(blob)))
        blob += item + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, count, ids_table, strs_table, 0, data_start)
    for length, offset in offsets:
        out += struct.pack("<2I", length, offset)
    return out + blob


def catalogues() -> list[Path]:
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/libcli.po"))


def compile_po(po: Path) -> bytes:
    return make_mo(parse_po(po.read_text(encoding="utf-8")))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for po in catalogues():
        mo = po.with_suffix(".mo")
        data = compile_po(po)
        if check:
            if not mo.exists() or mo.read_bytes() != data:
                stale.append(mo)
        else:
            mo.write_bytes(data)
            print(f"wrote {mo.relative_to(ROOT)}")
    for mo in stale:
        print(f"stale: {mo.relative_to(ROOT)} (run python scripts/msgfmt.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
