"""3. `libcli status --json` beside httpie and curl, 5. throughput under wrk, 7. memory.

The library: the aozora catalogue with one copy per title; patron 100000001 with ten
loans and ten reservations; 32 patrons who reserve and cancel; a lender who keeps 600
titles out (so that they can be reserved online, R6)."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.common import (
    Server,
    clean_env,
    peak_rss_mib,
    summary_ms,
    time_commands,
    tree_peak_rss_mib,
    venv_bin,
)

PATRON = "100000001"
LENDER = "100000009"
RESERVERS = [f"2000000{n:02d}" for n in range(32)]
PASSWORD = "bench-Password-2468"
ON_LOAN = 600  # titles S0000000.. kept out by the lender


def seed(url: str, workdir: Path) -> dict:
    """Patrons, loans and reservations through the service layer; their session tokens."""
    from libcli.server.db.session import Database
    from libcli.server.service import accounts, circulation, reservations
    from libcli.server.settings import load_settings

    settings = replace(load_settings(url), data_dir=workdir, outbox_dir=workdir / "outbox")
    db = Database(url)
    today = settings.today()
    tokens = {}
    try:
        with db.write() as s:
            for card in (PATRON, LENDER, *RESERVERS):
                accounts.add_patron(s, settings, card, "八戸 太郎", phone="0178-22-0266")
                accounts.issue_password(s, settings, card, PASSWORD)
            for n in range(ON_LOAN):
                circulation.checkout(s, settings, LENDER, f"CS{n:07d}", today)
            for n in range(ON_LOAN, ON_LOAN + 10):
                circulation.checkout(s, settings, PATRON, f"CS{n:07d}", today)
        with db.write() as s:
            reservations.place(
                s,
                settings,
                PATRON,
                [f"S{n:07d}" for n in range(10)],
                pickup="main",
                contact="phone",
            )
        for card in (PATRON, *RESERVERS):
            tokens[card] = accounts.login(db, settings, card, PASSWORD)[0]
    finally:
        db.dispose()
    return tokens


def status_command(server: Server, token: str, runs: int) -> dict:
    """The same GET /api/v1/status with the same token: libcli, httpie, curl."""
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env(
            LIBCLI_SERVER=server.url,
            LIBCLI_TOKEN=token,
            LIBCLI_CONFIG_DIR=tmp,
            HOME=tmp,
            LANG="C",
        )
        out = subprocess.run(
            [venv_bin("libcli"), "status", "--json"], env=env, capture_output=True, text=True
        )
        status = json.loads(out.stdout)
        shape = {k: len(v) for k, v in status.items() if isinstance(v, list)}
        url = f"{server.url}/api/v1/status"
        auth = f"Authorization: Bearer {token}"
        httpie_auth = f"Authorization:Bearer {token}"
        cases = {
            "libcli status --json": [venv_bin("libcli"), "status", "--json"],
            "http (httpie)": [
                venv_bin("http"),
                "--ignore-stdin",
                "GET",
                url,
                httpie_auth,
            ],
            "curl": ["curl", "-sf", "-H", auth, url],
        }
        timed = time_commands({name: (argv, env) for name, argv in cases.items()}, runs)
        timings = {name: summary_ms(t) for name, t in timed.items()}
        rss = peak_rss_mib([venv_bin("libcli"), "status"], env)
    return {"timings": timings, "shape": shape, "libcli_status_rss_mib": rss}


_RESERVE_CANCEL_LUA = """
local tokens = {TOKENS}
local ntitles = {NTITLES}
local counter = 0
local pending = {}
local created = 0
local threads = {}
function setup(thread)
  thread:set("tid", created)  -- a global in the thread's own Lua state
  created = created + 1
  table.insert(threads, thread)
end
unavailable = 0
function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do n = n + thread:get("unavailable") end
  io.write(string.format("503 responses: %d\\n", n))
end
function request()
  if #pending > 0 then
    local item = table.remove(pending, 1)
    return wrk.format("DELETE", "/api/v1/reservations/" .. item[1],
      {["Authorization"] = "Bearer " .. item[2]})
  end
  counter = counter + 1
  local n = (counter * 2 + (tid or 0)) % ntitles
  local token = tokens[(n % #tokens) + 1]
  local body = string.format(
    '{"title_ids":["{PREFIX}%07d"],"pickup":"main","contact":"phone"}', n)
  return wrk.format("POST", "/api/v1/reservations",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status == 503 then unavailable = unavailable + 1 end
  local rid = string.match(body, '"reservation_id":%s*(%d+)')
  local title = string.match(body, '"id":%s*"{PREFIX}(%d+)"')
  if rid and title then
    local n = tonumber(title)
    table.insert(pending, {rid, tokens[(n % #tokens) + 1]})
  end
end
"""

_SEARCH_LUA = """
local queries = {QUERIES}
local i = 0
function request()
  i = i + 1
  return wrk.format("GET", "/api/v1/catalog/search?q=" .. queries[(i % #queries) + 1])
end
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a server process and its workers, from their own
    counters (what a request costs the machine, whatever else runs on it)."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in (root, *root.children(recursive=True)):
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _wrk(
    url: str,
    seconds: int,
    script: Path | None = None,
    header: str | None = None,
    pid: int | None = None,
) -> dict:
    argv = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    if script:
        argv += ["-s", str(script)]
    if header:
        argv += ["-H", header]
    cpu_before = cpu_seconds(pid) if pid else 0.0
    done = subprocess.run([*argv, url], capture_output=True, text=True, check=True)
    if script and done.stderr.strip():  # a broken script: wrk would send plain GETs
        raise RuntimeError(f"wrk {script.name}: {done.stderr.strip()[-300:]}")
    out = done.stdout
    cpu = cpu_seconds(pid) - cpu_before if pid else None
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    unavailable = re.search(r"503 responses: (\d+)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {
        "rps": rps,
        "requests": total,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "503": int(unavailable.group(1)) if unavailable else None,
        "socket_errors": errors.group(1) if errors else "",
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None,
        "cpu_ms_per_request": 1000 * cpu / total if cpu is not None and total else None,
    }


def reserve_cancel_script(workdir: Path, tokens: list[str], prefix: str, titles: int) -> Path:
    """wrk's Lua for reserve + cancel pairs over titles `prefix`0000000.. (`titles` of them)."""
    script = workdir / f"reserve_cancel_{prefix}.lua"
    script.write_text(
        _RESERVE_CANCEL_LUA.replace("{TOKENS}", "{" + ",".join(f'"{t}"' for t in tokens) + "}")
        .replace("{NTITLES}", str(titles))
        .replace("{PREFIX}", prefix)
    )
    return script


def load_scripts(workdir: Path, tokens: dict, queries: list[str]) -> dict:
    """What wrk sends for each measured request: (path, Lua script, header)."""
    import urllib.parse

    reserve_lua = reserve_cancel_script(workdir, [tokens[c] for c in RESERVERS], "S", ON_LOAN)
    search_lua = workdir / "search.lua"
    quoted = ",".join(f'"{urllib.parse.quote(q)}"' for q in queries)
    search_lua.write_text(_SEARCH_LUA.replace("{QUERIES}", "{" + quoted + "}"))
    auth = f"Authorization: Bearer {tokens[PATRON]}"
    return {
        "GET /health": ("/health", None, None),
        "GET status": ("/api/v1/status", None, auth),
        "GET search": ("/", search_lua, None),
        "reserve+cancel (pairs)": ("/", reserve_lua, None),
    }


def throughput(
    url: str, workdir: Path, tokens: dict, queries: list[str], workers: int, seconds: int
) -> dict:
    requests = load_scripts(workdir, tokens, queries)
    results = {}
    with Server(url, workdir, workers=workers) as server:
        pid = server.process.pid
        time.sleep(0.5 * workers)
        _wrk(f"{server.url}/health", 1)  # warm every worker
        for name, (path, script, header) in requests.items():
            results[name] = _wrk(f"{server.url}{path}", seconds, script, header, pid)
        pairs = results["reserve+cancel (pairs)"]
        pairs["rps"] = pairs["rps"] / 2  # one reserve and one cancel
        results["worker_peak_rss_mib"] = tree_peak_rss_mib(pid)
    return results


def profile_under_load(
    url: str,
    workdir: Path,
    tokens: dict,
    request: str,
    seconds: int,
    queries: list[str] | None = None,
) -> list[tuple[str, float]]:
    """py-spy samples of a one-worker server while wrk drives `request` (a name of
    load_scripts): the functions where the worker spends its time (share of samples,
    own frame), to explain a gap."""
    import collections
    import shutil

    if not shutil.which(venv_bin("py-spy")):
        return []
    path, script, header = load_scripts(workdir, tokens, queries or ["本"])[request]
    raw = workdir / "profile.txt"
    raw.unlink(missing_ok=True)
    with Server(url, workdir, workers=1) as server:
        _wrk(f"{server.url}/health", 1)
        spy = subprocess.Popen(
            [
                venv_bin("py-spy"),
                "record",
                "--pid",
                str(server.process.pid),
                "--duration",
                str(seconds),
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                str(raw),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wrk(f"{server.url}{path}", seconds, script, header)
        spy.wait(60)
    if not raw.exists():
        return []
    own: collections.Counter[str] = collections.Counter()
    modules: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in {_package(f) for f in frames}:
            modules[frame] += n
    top = [(f"own: {name}", 100 * n / total) for name, n in own.most_common(8)]
    top += [(f"under: {name}", 100 * n / total) for name, n in modules.most_common(12)]
    return top


def _package(frame: str) -> str:
    """`fn (path/to/pkg/module.py:12)` → the top package of the frame's file."""
    match = re.search(r"\((.*?):\d+\)", frame)
    path = match.group(1) if match else frame
    for marker in ("site-packages/", "src/libcli/", "lib/python3"):
        if marker in path:
            rest = path.split(marker, 1)[1]
            head = rest.split("/")[0].removesuffix(".py")
            return "libcli." + head if marker == "src/libcli/" else head
    return path
