"""Timing, percentiles, peak memory and processes: what every part of the bench shares."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def venv_bin(name: str) -> str:
    here = BIN / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "p50": statistics.median(ms),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "n": len(ms),
    }


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any LIBCLI_ setting of the person running the bench."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIBCLI_", "_LIBCLI"))}
    env.update(extra)
    return env


def time_command(argv: list[str], env: dict, runs: int, warmup: int = 3) -> list[float]:
    """Wall-clock seconds of whole processes, after `warmup` unrecorded runs."""
    return time_commands({"command": (argv, env)}, runs, warmup)["command"]


def time_commands(
    cases: dict[str, tuple[list[str], dict]], runs: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Like time_command for several commands, interleaved round by round, so drift in
    the machine's load falls on every command alike (the ratios are what we report)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(warmup + runs):
        for name, (argv, env) in cases.items():
            started = time.perf_counter()
            done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(
                    f"{argv} exited {done.returncode}: {done.stderr.decode()[-500:]}"
                )
            if i >= warmup:
                times[name].append(elapsed)
    return times


def peak_rss_mib(argv: list[str], env: dict) -> float:
    """Peak resident memory of one run of a command, measured by GNU time when present
    (a child forked from this big process would report this process's size instead)."""
    import tempfile

    gnu_time = shutil.which("time") or "/usr/bin/time"
    if Path(gnu_time).exists():
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
            subprocess.run(
                [gnu_time, "-f", "%M", "-o", out.name, *argv],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            return int(out.read().split()[-1]) / 1024
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return usage.ru_maxrss / 1024


def tree_peak_rss_mib(pid: int) -> float:
    """The largest VmHWM (peak RSS) among a process and its children (uvicorn workers)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    peak = 0.0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            pass
    return peak


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A real `libcli-server serve` process."""

    database_url: str
    workdir: Path
    workers: int = 1
    url: str = ""
    process: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)  # more LIBCLI_SERVER_* for this server

    def __enter__(self) -> Server:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.env = clean_env(
            LIBCLI_SERVER_DATABASE_URL=self.database_url,
            LIBCLI_SERVER_DATA_DIR=str(self.workdir),
            LIBCLI_SERVER_OUTBOX=str(self.workdir / "outbox"),
            LIBCLI_SERVER_PUBLIC_URL=self.url,
            **self.settings,
        )
        self.env.pop("LIBCLI_SERVER_SMTP_HOST", None)
        log = open(self.workdir / f"server-{port}.log", "ab")
        self.process = subprocess.Popen(
            [
                venv_bin("libcli-server"),
                "serve",
                "--port",
                str(port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited {self.process.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer in 60 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
