"""6. `run-daily` over N ready holds of which half expire, then queue promotion."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from pathlib import Path

from bench.data import BenchDb


def build(db: BenchDb, holds: int, today: dt.date) -> None:
    """Set-based: N titles with one held copy each and a ready reservation for it; the
    first half past their pickup deadline, each with a patron waiting next in the queue."""
    from sqlalchemy import insert

    from libcli.server.db.models import Copy, Patron, Reservation, Title
    from libcli.server.db.session import Database

    now = dt.datetime.combine(today, dt.time(3, 0), tzinfo=dt.UTC)
    patrons = 1000
    database = Database(db.url)
    try:
        with database.engine.begin() as conn:
            conn.execute(
                insert(Patron),
                [
                    {
                        "card": f"3{n:08d}",
                        "name": "八戸 花子",
                        "failed_logins": 0,
                        "created_at": now,
                    }
                    for n in range(patrons)
                ],
            )
            conn.execute(
                insert(Title),
                [
                    {
                        "id": f"D{n:07d}",
                        "title": f"本 {n}",
                        "author": "",
                        "publisher": "",
                        "type": "book",
                        "search_text": "",
                    }
                    for n in range(holds)
                ],
            )
            conn.execute(
                insert(Copy),
                [
                    {
                        "barcode": f"DC{n:07d}",
                        "title_id": f"D{n:07d}",
                        "point": "main",
                        "location": "main",
                        "loanable": True,
                        "state": "held",
                    }
                    for n in range(holds)
                ],
            )
            expired = today - dt.timedelta(days=1)
            later = today + dt.timedelta(days=3)
            ready = [
                {
                    "card": f"3{n % patrons:08d}",
                    "title_id": f"D{n:07d}",
                    "pickup": "main",
                    "contact": "phone",
                    "status": "ready",
                    "via": "online",
                    "placed_at": now,
                    "queue_number": 1,
                    "copy_barcode": f"DC{n:07d}",
                    "ready_since": today - dt.timedelta(days=8),
                    "pickup_deadline": expired if n < holds // 2 else later,
                }
                for n in range(holds)
            ]
            conn.execute(insert(Reservation), ready)
            waiting = [
                {
                    "card": f"3{(n + 1) % patrons:08d}",
                    "title_id": f"D{n:07d}",
                    "pickup": "main",
                    "contact": "phone",
                    "status": "waiting",
                    "via": "online",
                    "placed_at": now,
                    "queue_number": 2,
                }
                for n in range(holds // 2)
            ]
            conn.execute(insert(Reservation), waiting)
    finally:
        database.dispose()
    if db.backend == "postgres":
        import psycopg

        with psycopg.connect(
            db.url.replace("postgresql+psycopg", "postgresql"), autocommit=True
        ) as conn:
            conn.execute("VACUUM ANALYZE")


def under_load(db: BenchDb, holds: int, workdir: Path, seconds: int) -> dict:
    """The issue's question: while `libcli-server run-daily` (a real process) works
    through `holds` ready holds, do patrons' reserve + cancel requests (wrk, 32
    connections, on titles whose holds expire) still answer, p99 and non-2xx?"""
    import subprocess
    import threading

    from bench import live
    from bench.common import Server, venv_bin
    from libcli.server.settings import load_settings

    settings = replace(load_settings(db.url), data_dir=workdir, outbox_dir=workdir / "outbox")
    today = settings.today()
    build(db, holds, today)
    tokens = _reservers(db.url, settings)
    script = live.reserve_cancel_script(workdir, tokens, "D", min(600, holds // 2))
    with Server(db.url, workdir) as server:
        live._wrk(f"{server.url}/health", 1)
        alone = live._wrk(f"{server.url}/", seconds, script, pid=server.process.pid)
        daily: dict = {}

        def job() -> None:
            time.sleep(1)  # the load first, then the job in its midst
            started = time.perf_counter()
            done = subprocess.run(
                [venv_bin("libcli-server"), "run-daily", "--date", today.isoformat()],
                env=server.env,
                capture_output=True,
                text=True,
            )
            daily["seconds"] = time.perf_counter() - started
            daily["output"] = (done.stdout or done.stderr).strip()[-300:]
            daily["returncode"] = done.returncode

        runner = threading.Thread(target=job)
        runner.start()
        load = live._wrk(f"{server.url}/", seconds, script, pid=server.process.pid)
        runner.join()
    return {
        "holds": holds,
        "load_seconds": seconds,
        "reserve_cancel_alone": alone,
        "reserve_cancel": load,
        "daily": daily,
    }


def _reservers(url: str, settings) -> list[str]:
    """32 patrons with a password, logged in: their session tokens."""
    from libcli.server.db.session import Database
    from libcli.server.service import accounts

    db = Database(url)
    cards = [f"2000000{n:02d}" for n in range(32)]
    try:
        with db.write() as s:
            for card in cards:
                accounts.add_patron(s, settings, card, "八戸 次郎", phone="0178-22-0266")
                accounts.issue_password(s, settings, card, "bench-Password-2468")
        return [accounts.login(db, settings, card, "bench-Password-2468")[0] for card in cards]
    finally:
        db.dispose()


def run(db: BenchDb, holds: int, workdir: Path) -> dict:
    from libcli.server.db.session import Database
    from libcli.server.service.daily import run_daily
    from libcli.server.settings import load_settings

    settings = replace(load_settings(db.url), data_dir=workdir, outbox_dir=workdir / "outbox")
    today = settings.today()
    started = time.perf_counter()
    build(db, holds, today)
    built = time.perf_counter() - started
    database = Database(db.url)
    try:
        started = time.perf_counter()
        result = run_daily(database, settings, today)
        seconds = time.perf_counter() - started
    finally:
        database.dispose()
    return {"holds": holds, "build_s": built, "seconds": seconds, **result}
