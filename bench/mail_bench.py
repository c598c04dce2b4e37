"""Mails per second through a local SMTP server (aiosmtpd), one and two deliverers.

Queues `--mails` mails, then runs `libcli-server mail deliver` (one process, then two at
once) until the outbox is empty, and divides. Each deliverer records every mail in its own
transaction right after its SMTP exchange, so the figure includes those commits.

    .venv/bin/python -m bench.mail_bench                    # SQLite and PostgreSQL
    .venv/bin/python -m bench.mail_bench --mails 500 --backends postgres

Needs PostgreSQL at LIBCLI_TEST_POSTGRES_URL for its rows (skipped when absent).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.common import clean_env, free_port, venv_bin


class Counter:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def run(backend: str, mails: int, deliverers: int, workdir: Path) -> float:
    from aiosmtpd.controller import Controller

    from bench.data import fresh_db
    from libcli.server import mail
    from libcli.server.db.session import Database
    from libcli.server.settings import load_settings

    bench_db = fresh_db(backend, workdir, f"mail{deliverers}")
    settings = replace(load_settings(bench_db.url), outbox_dir=workdir / "outbox")
    db = Database(bench_db.url)
    with db.write() as session:
        for n in range(mails):
            mail.queue(
                session,
                settings,
                to=f"p{n}@example.com",
                kind="password_changed",
                patron_name=f"利用者 {n}",
            )
    db.dispose()
    counter, port = Counter(), free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    env = clean_env(
        LIBCLI_SERVER_DATABASE_URL=bench_db.url,
        LIBCLI_SERVER_DATA_DIR=str(workdir),
        LIBCLI_SERVER_SMTP_HOST="127.0.0.1",
        LIBCLI_SERVER_SMTP_PORT=str(port),
    )
    try:
        started = time.perf_counter()
        processes = [
            subprocess.Popen([venv_bin("libcli-server"), "mail", "deliver"], env=env)
            for _ in range(deliverers)
        ]
        for p in processes:
            p.wait()
        seconds = time.perf_counter() - started
    finally:
        controller.stop()
        bench_db.drop()
    if counter.count != mails:
        raise SystemExit(f"{counter.count} mails arrived, {mails} queued")
    return mails / seconds


def main() -> None:
    from bench.data import postgres_available

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "postgres" in backends and not postgres_available():
        print("PostgreSQL not available: skipped", file=sys.stderr)
        backends.remove("postgres")
    head = f"{'backend':10} {'deliverers':>10} {'mails/s':>9}"
    print(f"{head}  ({args.mails} mails, {os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            for deliverers in (1, 2):
                rate = run(backend, args.mails, deliverers, Path(tmp))
                print(f"{backend:10} {deliverers:>10} {rate:>9.0f}")


if __name__ == "__main__":
    main()
