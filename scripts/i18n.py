#!/usr/bin/env python3
"""The message catalogues, with Babel: extract, update, compile, check.

    python scripts/i18n.py           # extract, update the .po files (translations kept), compile
    python scripts/i18n.py --check   # exit 1 when a catalogue or a .mo is not current

A domain is one gettext catalogue per language, with the sources its messages come from:

- `libcli`, the patron CLI: `_()` / `N_()` in src/libcli (the server excluded), the help
  of every command and option (docstrings of Click commands, `help=` strings), and every
  translatable string of the installed Click (Click calls gettext in our domain, see
  libcli/i18n.py), so Click's own messages ("Usage:", "Did you mean ...?") are translated.

- `libcli_server`, the server's words (refusals, pages, mails, the staff console): `_()` /
  `N_()` in src/libcli/server and `_()` in the pages' Jinja2 templates, its own catalogue
  in the server package so the CLI never loads it. Source strings are English; only the
Japanese catalogue is kept (English needs none at run time). A new message lands in the
.po with an empty msgstr, a changed one as fuzzy with its old translation: translate it in
the .po, then run this again.
"""

from __future__ import annotations

import ast
import inspect
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "libcli"
WIDTH = 100


def extract_libcli(fileobj, keywords, comment_tags, options) -> Iterator[tuple]:
    """Babel's Python extractor, plus Click help: the docstring of a function decorated as a
    command or group, and every `help="..."` string."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    tree = ast.parse(source.decode("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and _is_command(node):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield node.body[0].lineno, "", inspect.cleandoc(doc), []
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "help" and isinstance(kw.value, ast.Constant) and kw.value.value:
                    yield kw.value.lineno, "", kw.value.value, []


def _is_command(node: ast.FunctionDef) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in ("command", "group"):
            return True
    return False


def click_dir() -> Path:
    import click

    return Path(click.__file__).parent


@dataclass(frozen=True)
class Source:
    """A directory and how to read it (Babel's method map)."""

    directory: Path
    methods: list[tuple[str, str | Callable]]
    label: str  # how locations are written in the .po


@dataclass(frozen=True)
class Domain:
    name: str
    locale_dir: Path
    sources: list[Source]
    languages: tuple[str, ...] = ("ja",)
    keywords: dict = field(default_factory=lambda: dict(DEFAULT_KEYWORDS))

    def po(self, lang: str) -> Path:
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.name}.po"


DOMAINS = [
    Domain(
        "libcli",
        SRC / "locale",
        [
            Source(SRC, [("server/**", "ignore"), ("**.py", extract_libcli)], "src/libcli"),
            Source(click_dir(), [("**.py", "python")], "click"),
        ],
    ),
    # The server: refusals, pages, mails and the staff console. The CLI never loads it.
    Domain(
        "libcli_server",
        SRC / "server" / "locale",
        [
            Source(
                SRC / "server",
                [
                    ("**.py", extract_libcli),
                    ("mail_templates/**.txt", "jinja2"),
                    ("web/templates/**.html", "jinja2"),  # the pages' `_("...")`
                ],
                "src/libcli/server",
            )
        ],
    ),
]


def template(domain: Domain) -> Catalog:
    """Every message of the domain's sources, in source order."""
    catalog = Catalog(domain=domain.name, project="libcli", fuzzy=False)
    for source in domain.sources:
        found = extract_from_dir(
            source.directory, source.methods, keywords=domain.keywords, strip_comment_tags=True
        )
        for filename, lineno, message, comments, context in found:
            where = f"{source.label}/{Path(filename).as_posix()}"
            catalog.add(message, None, [(where, lineno)], auto_comments=comments, context=context)
    return catalog


def updated(domain: Domain, lang: str, pot: Catalog) -> Catalog:
    path = domain.po(lang)
    if path.exists():
        with open(path, "rb") as fh:
            catalog = read_po(fh, locale=lang, domain=domain.name)
    else:
        catalog = Catalog(locale=lang, domain=domain.name, project="libcli")
    created = catalog.creation_date
    catalog.update(pot, update_header_comment=False)
    catalog.creation_date = created  # a header date that changes on every run is noise
    catalog.project, catalog.version = "libcli", _version()
    catalog.obsolete.clear()
    return catalog


def _version() -> str:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(
        out, catalog, width=WIDTH, omit_header=False, include_previous=True, include_lineno=False
    )
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def problems(domain: Domain, lang: str, pot: Catalog) -> list[str]:
    """What is not current in one catalogue; [] when all is well."""
    path = domain.po(lang)
    where = path.relative_to(ROOT)
    if not path.exists():
        return [f"{where}: missing"]
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale=lang, domain=domain.name)
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in pot if m.id}
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    found = [f"{where}: not extracted any more: {i!r}" for i in sorted(have - wanted)]
    found += [f"{where}: missing: {i!r}" for i in sorted(wanted - have)]
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            found.append(f"{where}: untranslated or fuzzy: {message.id!r}")
    for message, errors in catalog.check():
        found += [f"{where}: {message.id!r}: {error}" for error in errors]
    mo = path.with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != mo_bytes(catalog):
        found.append(f"{mo.relative_to(ROOT)}: not compiled from {path.name}")
    return found


def main(argv: list[str]) -> int:
    check = "--check" in argv
    found: list[str] = []
    for domain in DOMAINS:
        pot = template(domain)
        for lang in domain.languages:
            if check:
                found += problems(domain, lang, pot)
                continue
            catalog = updated(domain, lang, pot)
            path = domain.po(lang)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(po_bytes(catalog))
            path.with_suffix(".mo").write_bytes(mo_bytes(catalog))
            todo = sum(1 for m in catalog if m.id and (m.fuzzy or not m.string))
            print(f"wrote {path.relative_to(ROOT)} and .mo ({len(catalog)} messages, {todo} to do)")
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print("run: python scripts/i18n.py, then translate what it lists", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
