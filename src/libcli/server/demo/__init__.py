"""The demo library: a small Hachinohe catalogue, patrons, loans and reservations.

Everything is made through the same functions staff use (the importer, the calendar
and the service layer), so the demo shows every rule the way it really happens:

- こころ (T0001): one of three copies on the shelf, so not reservable online (R8)
- 人間失格 (T0005): every copy on loan, two patrons waiting in the queue (R22)
- 津軽 (T0008): both loanable copies out, the third is 禁帯出 and does not count (R7)
- 八戸市史 (T0048), 広辞苑 (T0050): reference only (R7)
- 文藝春秋 (M0002), 千と千尋の神隠し (V0002): on loan but a magazine and AV (R5);
  南郷 次郎 holds the magazine by a counter reservation (R3 counts it)
- 海辺のカフカ (T0020): ready on the hold shelf at the main library for 白銀 さくら (R14)
- 火花 (T0037): returned at the main library, in transit to Nango for 青森 花子 (R22)
- the closed days of demo/calendar.toml (main: Mondays with the holiday shift), laid
  over the years around the day the demo is built
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources

from libcli.server import calendar
from libcli.server.db.session import Database
from libcli.server.importer import import_csv
from libcli.server.settings import Settings


@dataclass(frozen=True)
class DemoPatron:
    card: str
    name: str
    password: str
    email: str | None


PATRONS = (
    DemoPatron("100000001", "青森 花子", "hanako-no-hon", "hanako@example.com"),
    DemoPatron("100000002", "八戸 太郎", "taro-no-hon", None),
    DemoPatron("100000003", "南郷 次郎", "jiro-no-hon", "jiro@example.com"),
    DemoPatron("100000004", "白銀 さくら", "sakura-no-hon", "sakura@example.com"),
)
HANAKO, TARO, JIRO, SAKURA = (p.card for p in PATRONS)

# Who has what out, and how many days ago it was lent.
LOANS = {
    JIRO: (
        ["T0001-1", "T0001-2", "T0005-1", "T0005-2", "T0005-3", "T0020-1", "T0037-1"],
        6,
    ),
    SAKURA: (["T0018-1", "T0018-2", "T0008-1", "T0008-2", "T0037-2", "T0037-3", "M0002-2"], 4),
    TARO: (["T0021-1", "T0021-2", "T0021-3", "M0002-1", "V0002-1", "V0002-2"], 3),
    HANAKO: (["T0009-1"], 2),
}

# (card, title, pickup, contact, email confirmation, via), in the order they were placed.
RESERVATIONS = (
    (HANAKO, "T0005", "main", "email", True, "online"),
    (TARO, "T0005", "main", "phone", False, "online"),
    (HANAKO, "T0037", "nango", "phone", False, "online"),
    (TARO, "T0018", "center", "ring", False, "online"),
    (SAKURA, "T0020", "main", "email", True, "online"),
    (SAKURA, "T0021", "center", "none", False, "online"),
    (JIRO, "M0002", "nango", "phone", False, "counter"),
)

# Copies brought back today: (barcode, where).
RETURNS = (
    ("T0020-1", "main"),  # → ready for さくら at the main library
    ("T0037-1", "main"),  # → in transit to Nango for 花子
)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _yearly(pattern: str, year: int) -> str:
    """ "MM-DD..MM-DD" in `year` as a date range; a range that ends before it starts (the
    year end) runs into the next year."""
    first, _, last = pattern.partition("..")
    start = dt.date.fromisoformat(f"{year}-{first}")
    end = dt.date.fromisoformat(f"{year}-{last or first}")
    if end < start:
        end = end.replace(year=year + 1)
    return f"{start}..{end}"


def _monthly(pattern: str, year: int, month: int) -> str:
    """ "3rd thu": that weekday's nth occurrence in the month."""
    nth, weekday = pattern.split()
    day = _WEEKDAYS.index(weekday)
    first = dt.date(year, month, 1)
    offset = (day - first.weekday()) % 7 + 7 * (int(nth[0]) - 1)
    if offset >= month_calendar.monthrange(year, month)[1]:
        raise ValueError(f"no {pattern} in {year}-{month:02d}")
    return (first + dt.timedelta(days=offset)).isoformat()


def demo_calendar(today: dt.date) -> dict:
    """The demo's calendar (calendar file format) for the year before, the year of and
    the year after `today`: the demo never runs out of closed days."""
    template = tomllib.loads(
        resources.files("libcli.server.demo").joinpath("calendar.toml").read_text("utf-8")
    )
    years = range(today.year - 1, today.year + 2)
    result = {}
    for section, table in template.items():
        table = dict(table)
        closed = [_yearly(p, y) for p in table.pop("yearly_closed", []) for y in years]
        closed += [
            _monthly(p, y, m) for p in table.pop("monthly_closed", []) for y in years
            for m in range(1, 13)
        ]  # fmt: skip
        result[section] = {**table, "closed": closed}
    return result


def load_demo(db: Database, settings: Settings, today: dt.date) -> list[DemoPatron]:
    """Fill an empty, migrated database with the demo library; returns its patrons."""
    from libcli.server.service import accounts, circulation, reservations

    package = resources.files("libcli.server.demo")
    with db.write() as session:
        with package.joinpath("catalog.csv").open("r", encoding="utf-8", newline="") as f:
            import_csv(session, f, settings.profile)
        calendar.apply_calendar(
            session, demo_calendar(today), settings.profile, source="demo/calendar.toml"
        )

        for p in PATRONS:
            phone = None if p.email else "0178-00-0000"  # the patron without mail is phoned
            accounts.add_patron(session, settings, p.card, p.name, email=p.email, phone=phone)
            accounts.issue_password(session, settings, p.card, p.password, today=today)

        for card, (barcodes, days_ago) in LOANS.items():
            for barcode in barcodes:
                circulation.checkout(
                    session, settings, card, barcode, today=today - dt.timedelta(days=days_ago)
                )

        placed = dt.datetime.combine(today, dt.time(0, 30), tzinfo=dt.UTC)
        for n, (card, title_id, pickup, contact, confirm, via) in enumerate(RESERVATIONS):
            result = reservations.place(
                session,
                settings,
                card,
                [title_id],
                pickup=pickup,
                contact=contact,
                email_confirmation=confirm,
                via=via,
                today=today,
                now=placed + dt.timedelta(minutes=n),
            )
            if result["skipped"]:  # the demo must show what its docstring promises
                raise RuntimeError(f"demo reservation refused: {result['skipped']}")

        for barcode, point in RETURNS:
            circulation.checkin(session, settings, barcode, at=point, today=today)
    return list(PATRONS)
