"""The patron CLI under faults, hostile servers and cron, proven against real processes.

Every test runs the installed `libcli` in a subprocess. Servers are either a real
`libcli-server serve` (a module-wide one on SQLite, `cli_library`) or a tiny stdlib HTTP
server in a thread (`FakeServer`) that is down, slow, answers 500/503, garbage, or speaks
TLS with a self-signed certificate. The keyring is the file backend of keyrings.alt in a
temporary XDG_DATA_HOME, or a misbehaving one from `fake_keyrings.py`.
The mocked unit tests of the same code are in tests/cli.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import pty
import select
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.conftest import bin_path, free_port, make_database, start_live_server

HERE = Path(__file__).resolve().parent
CARD = "100000001"
LENDER = "100000009"
PASSWORD = "Kabu-Sennin-2468"
TOKEN = "seeded-token-of-the-keyring"
TIMEOUT = 0.5  # LIBCLI_TIMEOUT for the runs against a slow server
SLOW = 4.0  # how long the slow server sleeps before it answers
RETRIES = 3  # libcli.client.RETRIES (GET and HEAD only)

# Titles that try to retitle, recolour or drive the terminal (OSC, CSI, C1 CSI).
EVIL_OSC = "Evil \x1b]0;pwned\x07 Osc"
EVIL_CSI = "Evil \x1b[31m Red \x1b[2J"
EVIL_C1 = "Evil \x9b31m Cone"
EVIL_TITLES = {"E001": EVIL_OSC, "E002": EVIL_CSI, "E003": EVIL_C1}
#: escaped as clean() shows them (visible text, proof that the title was printed at all)
SHOWN = {
    "E001": "\\x1b]0;pwned\\x07",
    "E002": "\\x1b[31m Red \\x1b[2J",
    "E003": "\\x9b31m",
}


# -- running libcli ------------------------------------------------------------------------


def libcli(
    *args: str,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess:
    """`libcli ARGS`; stdin is the input, else /dev/null (never a terminal)."""
    done = subprocess.run(
        [bin_path("libcli"), *args],
        input=input.encode() if input is not None else None,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=timeout,
    )
    done.stdout = done.stdout.decode("utf-8")
    done.stderr = done.stderr.decode("utf-8")
    return done


def libcli_on_a_terminal(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """`libcli ARGS` with stdout on a pseudo-terminal: (exit code, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [bin_path("libcli"), *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(max(0.1, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode("utf-8")
    proc.stderr.close()
    assert "Traceback" not in err, err
    return code, b"".join(chunks).decode("utf-8")


def clean_env(home: Path, server: str, **extra: str) -> dict[str, str]:
    """The test runner's environment without anything that would change the CLI's choices."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIBCLI_", "LC_", "PYTHON_KEYRING"))
        and k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
    }
    env.update(
        HOME=str(home),
        LIBCLI_SERVER=server,
        LIBCLI_CONFIG_DIR=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        LIBCLI_KEYRING_TIMEOUT="2",
        LANG="C.UTF-8",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def one_line_error(done: subprocess.CompletedProcess, *, after_preview: bool = False) -> str:
    """The promise for every failure: one line on stderr, no traceback.

    `reserve` shows its preview (titles, pickup, contact) on stderr when stdout is a
    pipe; with `after_preview` those lines may come first, the error is still one line.
    """
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], done.stderr
    if not after_preview:
        assert len(lines) == 1, done.stderr
    return errors[0]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes (config, token file, cache, keyring file)."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def keyring_file(home: Path) -> Path:
    return home / "data" / "python_keyring" / "keyring_pass.cfg"


def seed_home(home: Path, server: str) -> dict[str, bytes]:
    """A patron logged in at `server`: card in the config, token in the file keyring."""
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(
        f'[default]\ncard = "{CARD}"\ntoken_storage = "keyring"\n', encoding="utf-8"
    )
    subprocess.run(
        [
            bin_path("python"),
            "-c",
            "import sys, keyring; keyring.set_password('libcli', sys.argv[1], sys.argv[2])",
            f"{CARD}@{server}",
            TOKEN,
        ],
        env=clean_env(home, server),
        check=True,
        timeout=60,
    )
    assert keyring_file(home).exists()
    return snapshot(home)


# -- a fake server -------------------------------------------------------------------------

TITLE = {
    "id": "B001",
    "title": "ノルウェイの森",
    "author": "村上春樹",
    "type": "book",
    "copies": [],
    "available": 0,
    "reservable": True,
    "reason": None,
}


class FakeServer:
    """A stdlib HTTP(S) server in a thread that answers with `behaviour(handler)`.

    `requests` records (method, path) of every request it read.
    """

    def __init__(
        self,
        behaviour: Callable[[BaseHTTPRequestHandler], None],
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, self.path.split("?")[0]))
                behaviour(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the client gave up on a slow answer: expected

        self.httpd = Server((host, 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        port = self.httpd.server_address[1]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://{host}:{port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def count(self, method: str) -> int:
        return sum(1 for m, _p in self.requests if m == method)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(
    h: BaseHTTPRequestHandler,
    status: int,
    body: bytes | str | dict = b"",
    ctype: str = "application/json",
    headers: dict[str, str] | None = None,
    length: int | None = None,
) -> None:
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False)
    if isinstance(body, str):
        body = body.encode("utf-8")
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body) if length is None else length))
    h.send_header("Connection", "close")
    for key, value in (headers or {}).items():
        h.send_header(key, value)
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)
    h.close_connection = True


def healthy(h: BaseHTTPRequestHandler) -> None:
    """Enough of the API for login, status, search, show and reserve."""
    path = h.path.split("?")[0]
    if h.command == "POST" and path.endswith("/auth/login"):
        reply(h, 200, {"token": "fresh-token-from-the-server", "patron": {"name": "八戸 太郎"}})
    elif h.command == "POST" and path.endswith("/auth/logout"):
        reply(h, 204)
    elif path.endswith("/status"):
        reply(h, 200, {"loans": [], "reservations": []})
    elif path.endswith("/catalog/search"):
        reply(h, 200, {"items": [TITLE], "total": 1})
    elif "/catalog/titles/" in path:
        reply(h, 200, TITLE)
    elif h.command == "POST" and path.endswith("/reservations"):
        reply(h, 200, {"reserved": [{"reservation_id": 1, "id": "B001", "position": 1}]})
    else:
        reply(h, 404, {"code": "not_found"}, "application/problem+json")


def slow(h: BaseHTTPRequestHandler) -> None:
    time.sleep(SLOW)
    healthy(h)


FAULTS: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {
    "slow": slow,
    "500": lambda h: reply(h, 500, "<html><h1>Internal Server Error</h1></html>", "text/html"),
    "html": lambda h: reply(h, 200, "<!doctype html><title>Captive portal</title>", "text/html"),
    "not_json": lambda h: reply(h, 200, "this is not json {"),
    "truncated_json": lambda h: reply(h, 200, '{"token": "abc", "items": [{"id": "B0'),
    "cut_short": lambda h: reply(h, 200, '{"token": "abc", "it', length=4000),
    "wrong_shape_json": lambda h: reply(h, 200, '["a", "list"]'),
}

COMMANDS = {
    "login": (["login", CARD, "--password-stdin"], PASSWORD + "\n"),
    "status": (["status"], None),
    "search": (["search", "夏目"], None),
    "reserve": (["reserve", "B001", "--pickup", "main", "--contact", "phone", "--yes"], None),
}


@pytest.fixture
def fake_server():
    servers: list[FakeServer] = []

    def start(behaviour, **kw) -> FakeServer:
        server = FakeServer(behaviour, **kw)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


# -- server down, slow, 500, garbage: one line, exit 3, nothing written ------------------


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(
    "fault",
    [
        "down",
        pytest.param("slow", marks=pytest.mark.e2e),
        *[f for f in FAULTS if f != "slow"],
    ],
)
def test_cli_server_down_slow_500_or_garbage_gives_one_line_exit_3_and_writes_nothing(
    fault, command, fake_server, tmp_path
):
    down = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    url = down if fault == "down" else fake_server(FAULTS[fault]).url
    home = tmp_path / "home"
    before = seed_home(home, url)
    args, stdin = COMMANDS[command]
    started = time.monotonic()
    done = libcli(*args, env=clean_env(home, url, LIBCLI_TIMEOUT=str(TIMEOUT)), input=stdin)
    elapsed = time.monotonic() - started
    assert done.returncode == 3, (done.stdout, done.stderr)
    line = one_line_error(done, after_preview=command == "reserve")
    assert url in line or "HTTP" in line, line
    if fault == "slow":
        assert "did not answer in time" in line, line
        assert elapsed < SLOW * (RETRIES + 1), "LIBCLI_TIMEOUT was not used"
    assert snapshot(home) == before, "the keyring, config or cache changed"
    assert not (home / "config" / "tokens.toml").exists()


def test_cli_timeout_comes_from_libcli_timeout(fake_server, tmp_path):
    server = fake_server(slow)
    home = tmp_path / "home"
    seed_home(home, server.url)
    started = time.monotonic()
    done = libcli(
        "login", CARD, "--password-stdin",
        env=clean_env(home, server.url, LIBCLI_TIMEOUT="0.3"),
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 3
    assert "did not answer in time" in one_line_error(done)
    assert time.monotonic() - started < SLOW
    assert server.count("POST") == 1


# -- retries: GET only ---------------------------------------------------------------------


def busy(h: BaseHTTPRequestHandler) -> None:
    reply(h, 503, {"code": "busy"}, "application/problem+json", {"Retry-After": "0"})


def post_fails(answer: Callable[[BaseHTTPRequestHandler], None]):
    def behaviour(h: BaseHTTPRequestHandler) -> None:
        if h.command == "POST":
            answer(h)
        else:
            healthy(h)

    return behaviour


def drop(h: BaseHTTPRequestHandler) -> None:
    """Read the request, then hang up without an answer (the server died mid-request)."""
    h.close_connection = True
    h.connection.shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize("command", ["status", "search"])
def test_cli_retries_a_get_answered_503(command, fake_server, tmp_path):
    server = fake_server(busy)
    home = tmp_path / "home"
    seed_home(home, server.url)
    args, _stdin = COMMANDS[command]
    done = libcli(*args, env=clean_env(home, server.url))
    assert done.returncode == 3
    assert "busy" in one_line_error(done)
    assert server.count("GET") == 1 + RETRIES
    assert server.count("POST") == 0


def test_cli_a_get_retried_after_503_succeeds(fake_server, tmp_path):
    answers = iter([busy, busy])

    def flaky(h):
        next(answers, healthy)(h)

    server = fake_server(flaky)
    home = tmp_path / "home"
    seed_home(home, server.url)
    done = libcli("status", "--json", env=clean_env(home, server.url))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"loans": [], "reservations": []}
    asked = [path for method, path in server.requests if method == "GET"]
    assert asked[:3] == ["/api/v1/status"] * 3  # then status asks for the library's points


@pytest.mark.parametrize("answer", [busy, drop], ids=["503", "connection_dropped"])
@pytest.mark.parametrize("command", ["reserve", "login"])
def test_cli_never_retries_a_post(command, answer, fake_server, tmp_path):
    server = fake_server(post_fails(answer))
    home = tmp_path / "home"
    before = seed_home(home, server.url)
    args, stdin = COMMANDS[command]
    done = libcli(*args, env=clean_env(home, server.url), input=stdin)
    assert done.returncode == 3, (done.stdout, done.stderr)
    one_line_error(done, after_preview=command == "reserve")
    assert server.count("POST") == 1, server.requests
    assert snapshot(home) == before


# -- escape sequences in server text -------------------------------------------------------


def _evil_csv(path: Path) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(
            ["title_id", "title", "author", "publisher", "year", "type", "isbn", "barcode",
             "point", "loanable"]
        )  # fmt: skip
        for n, (title_id, title) in enumerate(EVIL_TITLES.items(), start=1):
            out.writerow(
                [title_id, title, "Author \x1b[5m", "Pub", 2020, "book", "", f"EC{n}", "main",
                 "true"]
            )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def cli_library(tmp_path_factory, module_clock):
    """A real server whose catalogue holds the evil titles; Taro borrowed E001 and
    reserved E002 (on loan to the lender); E003 is on loan too, free to reserve."""
    tmp = tmp_path_factory.mktemp("cli_library")
    url, cleanup = make_database("sqlite", tmp)
    server = start_live_server(url, tmp, module_clock)
    try:
        server.console("import-catalog", str(_evil_csv(tmp / "evil.csv")), "--format", "csv")
        server.console("patron", "add", CARD, "--name", "八戸 太郎")
        server.console("patron", "issue-password", CARD, "--password-stdin", input=PASSWORD + "\n")
        server.console("patron", "add", LENDER, "--name", "貸出 次郎")
        week_ago = (server.today() - dt.timedelta(days=7)).isoformat()
        server.console("checkout", CARD, "EC1", "--date", week_ago)
        server.console("checkout", LENDER, "EC2", "--date", week_ago)
        server.console("checkout", LENDER, "EC3", "--date", week_ago)
        api = server.url + "/api/v1"
        login = requests.post(f"{api}/auth/login", json={"card": CARD, "password": PASSWORD})
        login.raise_for_status()
        token = login.json()["token"]
        reserved = requests.post(
            f"{api}/reservations",
            json={
                "title_ids": ["E002"],
                "pickup": "main",
                "contact": "phone",
                "email_confirmation": False,
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        reserved.raise_for_status()
        assert [r["id"] for r in reserved.json()["reserved"]] == ["E002"]
        server.extra["token"] = token
        yield server
    finally:
        server.stop()
        cleanup()


@pytest.mark.e2e
def test_cli_the_real_server_serves_the_evil_titles_raw(cli_library):
    """Precondition: the importer kept the control characters, so the CLI is what stops them."""
    found = requests.get(f"{cli_library.url}/api/v1/catalog/search", params={"q": "Evil"}).json()
    assert {i["id"]: i["title"] for i in found["items"]} == EVIL_TITLES


def _no_terminal_controls(text: str) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in text if _is_control(c) and c not in "\n\r\t"})
    assert not bad, f"raw control characters reached the output: {bad}\n{text!r}"


def _is_control(c: str) -> bool:
    return ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F


ESCAPE_RUNS = {
    "search": (["search", "Evil"], ["E001", "E002", "E003"]),
    "show": (["show", "E001"], ["E001"]),
    "show_c1": (["show", "E003"], ["E003"]),
    "status": (["status"], ["E001", "E002"]),
}


@pytest.mark.e2e
@pytest.mark.parametrize("run", list(ESCAPE_RUNS))
@pytest.mark.parametrize("stdout", ["pipe", "pipe_json", "terminal", "terminal_colour"])
def test_cli_prints_server_text_with_escape_sequences_neutralised(
    run, stdout, cli_library, tmp_path
):
    args, ids = ESCAPE_RUNS[run]
    env = clean_env(tmp_path, cli_library.url, LIBCLI_TOKEN=cli_library.extra["token"])
    if stdout == "terminal_colour":
        env.pop("NO_COLOR")  # our own red for refused titles may appear, nothing else
    if stdout.startswith("terminal"):
        env["COLUMNS"] = "250"  # tables fit the terminal: wide enough to show every title whole
        code, text = libcli_on_a_terminal(*args, env=env)
    else:
        done = libcli(*args, *(["--json"] if stdout == "pipe_json" else []), env=env)
        assert "Traceback" not in done.stderr and not done.stderr.strip(), done.stderr
        code, text = done.returncode, done.stdout
        _no_terminal_controls(done.stderr)
    assert code == 0, text
    if stdout == "terminal_colour":
        text = text.replace("\x1b[31m", "", text.count("\x1b[0m")).replace("\x1b[0m", "")
    _no_terminal_controls(text)
    if stdout == "pipe_json":
        decoded = json.dumps(json.loads(text), ensure_ascii=False)
        for title_id in ids:
            assert json.dumps(EVIL_TITLES[title_id], ensure_ascii=False)[1:-1] in decoded
    else:
        for title_id in ids:
            assert SHOWN[title_id] in text, text


# -- http:// and TLS -----------------------------------------------------------------------


def _non_loopback_address() -> str | None:
    """An address of this machine that is not loopback, or None."""
    for probe in ("192.0.2.1", "10.255.255.255", "198.51.100.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect((probe, 9))
            except OSError:
                continue
            address = s.getsockname()[0]
            if not address.startswith("127."):
                return address
    return None


@pytest.mark.parametrize(
    "url",
    [
        "http://library.example.org",
        "http://192.0.2.1:8765",
        "http://localhost@library.example.org",
        "http://127.0.0.1.nip.io:8765",
    ],
)
@pytest.mark.parametrize("how", ["env", "flag", "config"])
def test_cli_refuses_http_to_other_than_loopback_without_insecure(url, how, tmp_path):
    env = clean_env(tmp_path, url, LIBCLI_TOKEN="some-token")
    args = ["status"]
    if how == "flag":
        env.pop("LIBCLI_SERVER")
        args = ["--server", url, "status"]
    elif how == "config":
        env.pop("LIBCLI_SERVER")
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "config.toml").write_text(f'[default]\nserver = "{url}"\n')
    before = snapshot(tmp_path)
    for argv, stdin in ((args, None), (["login", CARD, "--password-stdin"], PASSWORD + "\n")):
        if argv[0] == "login" and how == "flag":
            argv = ["--server", url, *argv]
        done = libcli(*argv, env=env, input=stdin)
        assert done.returncode == 2, (argv, done.stderr)
        assert "--insecure" in one_line_error(done)
    assert snapshot(tmp_path) == before


def test_cli_http_to_another_machine_goes_out_only_with_insecure(fake_server, tmp_path):
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address other than loopback")
    server = fake_server(healthy, host=address)
    env = clean_env(tmp_path, server.url, LIBCLI_TOKEN="some-token")
    refused = libcli("search", "x", env=env)
    assert refused.returncode == 2 and "--insecure" in one_line_error(refused)
    login = libcli("login", CARD, "--password-stdin", env=env, input=PASSWORD + "\n")
    assert login.returncode == 2
    assert server.requests == [], "the card or password went out over plain http"
    allowed = libcli("--insecure", "search", "x", "--json", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert server.count("GET") == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_cli_plain_http_to_loopback_is_allowed(host, fake_server, tmp_path):
    server = fake_server(healthy)
    url = server.url.replace("127.0.0.1", host)
    done = libcli("search", "x", "--json", env=clean_env(tmp_path, url))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["id"] == "B001"


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    tmp = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(self_signed, fake_server) -> FakeServer:
    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return fake_server(healthy, tls=context)


@pytest.mark.parametrize("insecure", [False, True], ids=["default", "with_insecure"])
@pytest.mark.parametrize("command", ["search", "login"])
def test_cli_verifies_tls_and_refuses_a_self_signed_certificate(
    command, insecure, tls_server, tmp_path
):
    home = tmp_path / "home"
    before = seed_home(home, tls_server.url)
    args, stdin = COMMANDS[command]
    done = libcli(
        *(["--insecure"] if insecure else []), *args, env=clean_env(home, tls_server.url),
        input=stdin,
    )  # fmt: skip
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "certificate" in one_line_error(done)
    assert tls_server.requests == [], "a request was sent over an unverified connection"
    assert snapshot(home) == before


def test_cli_tls_works_when_the_certificate_is_trusted(tls_server, self_signed, tmp_path):
    """The control: the same server is fine once its certificate is a trusted CA."""
    cert, _key = self_signed
    env = clean_env(tmp_path, tls_server.url, REQUESTS_CA_BUNDLE=str(cert))
    done = libcli("search", "x", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert tls_server.count("GET") == 1


# -- keyring failures ----------------------------------------------------------------------

KEYRINGS = {
    "fail": "keyring.backends.fail.Keyring",
    "null": "keyring.backends.null.Keyring",
    "locked": "fake_keyrings.LockedKeyring",
    "hanging": "fake_keyrings.HangingKeyring",
}


def keyring_env(home: Path, server: str, backend: str) -> dict[str, str]:
    env = clean_env(home, server, PYTHON_KEYRING_BACKEND=KEYRINGS[backend])
    env["LIBCLI_KEYRING_TIMEOUT"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    return env


@pytest.mark.parametrize("backend", list(KEYRINGS))
def test_cli_login_with_a_failing_null_locked_or_hanging_keyring_exits_4_in_one_line(
    backend, fake_server, tmp_path
):
    server = fake_server(healthy)
    started = time.monotonic()
    done = libcli(
        "login", CARD, "--password-stdin",
        env=keyring_env(tmp_path, server.url, backend),
        input=PASSWORD + "\n",
        timeout=30,
    )  # fmt: skip
    assert time.monotonic() - started < 15, "the keyring call was not timed out"
    assert done.returncode == 4, (done.stdout, done.stderr)
    line = one_line_error(done)
    assert "keyring" in line and "--insecure-storage" in line, line
    if backend == "hanging":
        assert "did not answer within 1 seconds" in line
    # Nothing fell back to plain text, and the config does not claim a login.
    assert not (tmp_path / "config" / "tokens.toml").exists()
    assert not (tmp_path / "config" / "config.toml").exists()
    assert not (tmp_path / "data").exists()
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and b"fresh-token" in p.read_bytes()]
    assert not leaked
    if backend in ("fail", "null"):
        assert server.requests == [], "the password was sent although no keyring could keep it"
    else:
        # The keyring only failed after the server issued a token: that session is ended.
        assert [m for m, _p in server.requests] == ["POST", "POST"]
        assert server.requests[1][1].endswith("/auth/logout")


@pytest.mark.parametrize("backend", list(KEYRINGS))
def test_cli_status_with_a_failing_null_locked_or_hanging_keyring_exits_4_in_one_line(
    backend, fake_server, tmp_path
):
    server = fake_server(healthy)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text(f'[default]\ncard = "{CARD}"\n')
    before = snapshot(tmp_path)
    done = libcli("status", env=keyring_env(tmp_path, server.url, backend), timeout=30)
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "keyring" in one_line_error(done)
    assert server.requests == []
    assert snapshot(tmp_path) == before


def test_cli_login_with_insecure_storage_is_the_only_plain_text_and_says_so(fake_server, tmp_path):
    server = fake_server(healthy)
    done = libcli(
        "login", CARD, "--password-stdin", "--insecure-storage",
        env=keyring_env(tmp_path, server.url, "fail"),
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "plain text" in done.stderr
    tokens = tmp_path / "config" / "tokens.toml"
    assert oct(tokens.stat().st_mode & 0o777) == "0o600"
    assert "fresh-token-from-the-server" in tokens.read_text()


# -- cron: env -i, no terminal, no prompt --------------------------------------------------


def cron_env(home: Path, server: str, token: str | None = None) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LIBCLI_SERVER": server}
    if token:
        env["LIBCLI_TOKEN"] = token
    return env


@pytest.mark.e2e
def test_cli_cron_status_json_with_libcli_token_works_and_never_prompts(cli_library, tmp_path):
    env = cron_env(tmp_path, cli_library.url, cli_library.extra["token"])
    done = libcli("status", "--json", env=env, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    data = json.loads(done.stdout)
    assert [loan["id"] for loan in data["loans"]] == ["E001"]
    assert [r["id"] for r in data["reservations"]] == ["E002"]
    assert not (tmp_path / ".local" / "share" / "python_keyring").exists()


@pytest.mark.e2e
@pytest.mark.parametrize("args", [["login", CARD], ["login"]], ids=["with_card", "without_card"])
def test_cli_cron_login_without_a_terminal_or_password_stdin_is_a_usage_error(
    args, cli_library, tmp_path
):
    for keyring in (None, "keyrings.alt.file.PlaintextKeyring"):
        env = cron_env(tmp_path, cli_library.url)
        if keyring:
            env["PYTHON_KEYRING_BACKEND"] = keyring
        done = libcli(*args, env=env, timeout=30)
        assert done.returncode == 2, done.stderr
        line = one_line_error(done)
        assert "--password-stdin" in line or "libcli login CARD" in line, line
        assert not list(tmp_path.rglob("*.toml")), "a failed login wrote the config"


@pytest.mark.e2e
def test_cli_cron_reserve_without_yes_refuses_with_exit_2(cli_library, tmp_path):
    env = cron_env(tmp_path, cli_library.url, cli_library.extra["token"])
    done = libcli("reserve", "E003", "--pickup", "main", "--contact", "phone", env=env, timeout=30)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "--yes" in one_line_error(done, after_preview=True)
    status = json.loads(libcli("status", "--json", env=env).stdout)
    assert "E003" not in [r["id"] for r in status["reservations"]], "reserved without --yes"
    cancel = libcli("cancel", "1", env=env, timeout=30)
    assert cancel.returncode == 2 and "--yes" in one_line_error(cancel)
