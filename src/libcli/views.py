"""The JSON each data command prints: its keys, in one place.

Scripts rely on these keys (docs/cli.md lists them from here, and the tests read them here
rather than copying them). `--json` prints every key of a command's view; `--json FIELDS`
only the comma-separated FIELDS, as `gh` does. A view is one record (`whoami`), a list of
records (`search`), or named parts, each a list of records or of plain values (`status`,
`cancel`). Stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

#: What `--json` alone means: every key of the view.
ALL_FIELDS = "*"


class Record(NamedTuple):
    """The keys of one kind of record, in the order printed; `lists` holds the keys of the
    records of a key whose value is a list of records (a title's copies)."""

    keys: tuple[str, ...]
    lists: dict[str, Record] = {}  # noqa: RUF012 - read only

    def pick(self, item: Any, fields: tuple[str, ...] | None) -> dict[str, Any]:
        item = item if isinstance(item, dict) else {}
        out = {}
        for key in self.keys:
            if fields is not None and key not in fields:
                continue
            value = item.get(key)
            if key in self.lists and isinstance(value, list):
                value = [self.lists[key].pick(v, None) for v in value]
            out[key] = value
        return out


class View(NamedTuple):
    """A command's JSON: `one` record, a `many` list of records, or `parts` (a name to a list
    of records, or to a list of plain values when None)."""

    command: str
    one: Record | None = None
    many: Record | None = None
    parts: dict[str, Record | None] = {}  # noqa: RUF012 - read only
    each: str = ""  # what every key holds, when it is not a plain value (for the docs)

    def records(self) -> Iterable[Record]:
        if self.one:
            yield self.one
        if self.many:
            yield self.many
        yield from (r for r in self.parts.values() if r is not None)

    @property
    def fields(self) -> tuple[str, ...]:
        """Every key `--json FIELDS` may name."""
        return tuple(dict.fromkeys(k for r in self.records() for k in r.keys))

    def unknown(self, fields: Iterable[str]) -> list[str]:
        return [f for f in fields if f not in self.fields]

    def render(self, data: Any, fields: tuple[str, ...] | None = None) -> Any:
        """`data` with this view's keys only (and of those, only `fields` when given)."""
        if self.one:
            return self.one.pick(data, fields)
        if self.many:
            return [self.many.pick(item, fields) for item in data]
        out: dict[str, Any] = {}
        for name, record in self.parts.items():
            items = data.get(name) or []
            out[name] = list(items) if record is None else [record.pick(i, fields) for i in items]
        return out


class Output:
    """What the `--json` option of a data command hands it: JSON of its view when `--json`
    was given (every key, or the chosen FIELDS); else the command draws a table."""

    def __init__(self, view: View, fields: str | None) -> None:
        self.view = view
        self.json = fields is not None
        chosen = None if fields in (None, ALL_FIELDS) else fields
        self.fields = tuple(f.strip() for f in chosen.split(",") if f.strip()) if chosen else None

    def emit(self, data: Any) -> None:
        from libcli.output import emit_json

        emit_json(self.view.render(data, self.fields))


TITLE = (
    "id",
    "title",
    "author",
    "publisher",
    "year",
    "type",
    "copies",
    "available",
    "reservable",
    "reason",
)
COPY = Record(("barcode", "point", "loanable", "state", "due_date"))
LOAN = Record(
    ("barcode", "id", "title", "point", "checked_out_on", "due_date", "overdue", "renewals_left")
)
RESERVATION = Record(
    (
        "reservation_id",
        "id",
        "title",
        "status",
        "pickup",
        "contact",
        "via",
        "position",
        "placed_at",
        "ready_since",
        "pickup_deadline",
        "suspended_until",
    )
)

WHOAMI = View(
    "whoami",
    one=Record(
        (
            "card",
            "name",
            "email",
            "phone",
            "server",
            "profile",
            "token_source",
            "token_location",
            "token",
            "session_expires_at",
        )
    ),
)
SEARCH = View("search", many=Record(TITLE))
SHOW = View("show", one=Record((*TITLE, "isbn"), lists={"copies": COPY}))
FAV_LIST = View("fav list", many=Record(("id", "title", "reservable", "reason")))
RESERVE = View(
    "reserve",
    parts={
        "reserved": Record(("reservation_id", "id", "title", "position")),
        "skipped": Record(("id", "title", "reason")),
    },
)
STATUS = View("status", parts={"loans": LOAN, "reservations": RESERVATION})
CANCEL = View("cancel", parts={"cancelled": None, "refused": Record(("reservation_id", "reason"))})
RENEW = View(
    "renew",
    parts={
        "renewed": Record(("barcode", "title", "due_date")),
        "skipped": Record(("barcode", "title", "reason")),
    },
)
#: `status --all-profiles`: one record per card of the family.
STATUS_ALL = View(
    "status --all-profiles",
    many=Record(
        ("profile", "card", "loans", "reservations"),
        lists={"loans": LOAN, "reservations": RESERVATION},
    ),
)
#: `news`: what changed since the last run; `kind` is hold_ready, hold_expired, due_soon or
#: overdue; `date` is the pickup deadline, the day the hold was cancelled, or the due date.
NEWS = View(
    "news",
    many=Record(
        (
            "profile",
            "card",
            "kind",
            "title",
            "date",
            "id",
            "reservation_id",
            "pickup",
            "pickup_deadline",
            "barcode",
        )
    ),
)


def config_list() -> View:
    """`config list`: one record whose keys are the settings, each {"value", "source"}."""
    from libcli.config import KEYS

    keys = tuple(k for k, spec in KEYS.items() if spec.public)
    return View("config list", one=Record(keys), each='{"value", "source"}')


def all_views() -> list[View]:
    return [
        WHOAMI,
        SEARCH,
        SHOW,
        FAV_LIST,
        RESERVE,
        STATUS,
        STATUS_ALL,
        CANCEL,
        RENEW,
        NEWS,
        config_list(),
    ]


def _described(record: Record, key: str) -> str:
    if key in record.lists:
        return f"`{key}` (each: {', '.join(record.lists[key].keys)})"
    return f"`{key}`"


def markdown() -> str:
    """The JSON keys of every command, as docs/cli.md shows them."""
    lines = ["| command | JSON | keys (`--json FIELDS` picks among them) |", "|---|---|---|"]
    for view in all_views():
        if view.one:
            shape, groups = "an object", [("", view.one)]
        elif view.many:
            shape, groups = "a list of objects", [("", view.many)]
        else:
            shape = "{" + ", ".join(f'"{name}": [...]' for name in view.parts) + "}"
            groups = [(name, record) for name, record in view.parts.items()]
        described = []
        for name, record in groups:
            if record is None:
                described.append(f"{name}: ids")
                continue
            keys = ", ".join(_described(record, k) for k in record.keys)
            described.append(f"{name}: {keys}" if name else keys)
        each = f" (each: {view.each})" if view.each else ""
        lines.append(f"| `libcli {view.command}` | {shape} | {'; '.join(described)}{each} |")
    return "\n".join(lines) + "\n"
