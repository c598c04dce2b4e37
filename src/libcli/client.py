"""The only module that speaks HTTP: a thin client of the libcli-server API (docs/api.md).

One `requests.Session` factory sets the User-Agent, the timeouts and the retries (GET
only: a retried POST could reserve twice). Every failure becomes a typed error from
`libcli.errors` carrying the server's problem `code`; requests' exceptions are mapped
here and nowhere else.
"""

from __future__ import annotations

import ipaddress
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

from libcli.errors import ServerError, UnreachableError, UsageProblem, from_problem

API_PREFIX = "/api/v1"
#: (connect, read) seconds of one attempt
TIMEOUT = (5.0, 30.0)
#: seconds one request may take in all, retries and their pauses included
TOTAL_TIMEOUT = 60.0
#: seconds to wait in all instead of TOTAL_TIMEOUT (one attempt is capped by it too)
TIMEOUT_ENV = "LIBCLI_TIMEOUT"
RETRIES = 3
#: seconds before a terminal is told that the answer is slow
SLOW_NOTICE_AFTER = 1.5

#: When the request being sent must be over (time.monotonic()); read by the retry and
#: timeout objects below, which urllib3 copies for every attempt.
_deadline: ContextVar[float | None] = ContextVar("libcli_deadline", default=None)


def _remaining() -> float | None:
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


class DeadlineRetry(Retry):
    """urllib3's Retry, that never waits or tries again past the request's deadline."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        left = _remaining()
        if left is not None and left <= self.get_backoff_time():
            return False  # the answer we have is the one the patron gets
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):
        left = _remaining()
        if left is not None and left <= 0 and error is not None:
            raise MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        left = _remaining()
        backoff = super().get_backoff_time()
        return backoff if left is None else max(0.0, min(backoff, left))

    def get_retry_after(self, response) -> float | None:
        after = super().get_retry_after(response)
        left = _remaining()
        return after if after is None or left is None else max(0.0, min(after, left))


class DeadlineTimeout(Timeout):
    """One attempt's timeout: (connect, read) as given, and never past the deadline."""

    def __init__(self, connect: float, read: float, deadline: float) -> None:
        self.deadline = deadline
        super().__init__(connect=connect, read=read, total=max(0.001, deadline - time.monotonic()))

    def clone(self) -> DeadlineTimeout:
        return DeadlineTimeout(self._connect, self._read, self.deadline)  # type: ignore[arg-type]


def default_timeout() -> tuple[float, float]:
    """TIMEOUT, or `$LIBCLI_TIMEOUT` seconds when that is a positive number."""
    seconds = _env_seconds()
    if seconds is None:
        return TIMEOUT
    return (min(TIMEOUT[0], seconds), min(TIMEOUT[1], seconds))


def total_timeout() -> float:
    """The whole wait of one request: `$LIBCLI_TIMEOUT` seconds, else TOTAL_TIMEOUT."""
    seconds = _env_seconds()
    return TOTAL_TIMEOUT if seconds is None else seconds


def _env_seconds() -> float | None:
    try:
        seconds = float(os.environ.get(TIMEOUT_ENV) or "nan")
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return seconds


def user_agent() -> str:
    import libcli

    return f"libcli/{libcli.__version__} python-requests/{requests.__version__}"


def make_session(retries: int = RETRIES, backoff: float = 0.3) -> requests.Session:
    """The one HTTP session: User-Agent, JSON, and retries on GET/HEAD only."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent()
    session.headers["Accept"] = "application/json, application/problem+json"
    retry = DeadlineRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        allowed_methods=frozenset({"GET", "HEAD"}),
        status_forcelist=(502, 503, 504),
        backoff_factor=backoff,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: What a request may carry that must not cross a network in plain text.
SECRET_FIELDS = ("card", "password", "current_password", "new_password", "token")


def ensure_safe_url(
    url: str, *, insecure: bool = False, secrets: Iterable[str] = ("card", "password", "token")
) -> str:
    """A server address; plain http to anything but this machine is refused for a request
    carrying `secrets` (a card number, a password, a token) unless --insecure. TLS stays
    verified either way."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageProblem("bad_url", url=url)
    secrets = tuple(dict.fromkeys(secrets))
    if secrets and parts.scheme == "http" and not insecure and not is_loopback(parts.hostname):
        raise UsageProblem("insecure_url", url=url, secrets=secrets)
    return url.rstrip("/")


def secrets_of(json: Any, *, token: bool) -> list[str]:
    """Which secrets a request carries: its body's card/password/token fields, the token."""
    found = [k for k in SECRET_FIELDS if isinstance(json, dict) and json.get(k)]
    if token:
        found.append("session_token")
    return found


class LibraryClient:
    """`libcli-server`'s API, one method per route."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        lang: str = "en",
        session: requests.Session | None = None,
        timeout: tuple[float, float] | None = None,
        insecure: bool = False,
        on_slow: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.insecure = insecure
        self.token = token
        self.lang = lang
        self.session = session or make_session()
        self.timeout = timeout or default_timeout()
        self.total_timeout = total_timeout()
        #: the HTTP status of the last answer (201 and 204 can mean different things)
        self.last_status: int | None = None
        #: called once, from another thread, when an answer takes SLOW_NOTICE_AFTER seconds
        self.on_slow = on_slow

    # -- plumbing -----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        optional_auth: bool = False,
        raw: bool = False,
    ) -> Any:
        url = self.base_url + API_PREFIX + path
        headers = {"Accept-Language": self.lang}
        if self.token and (auth or optional_auth):
            headers["Authorization"] = f"Bearer {self.token}"
        secrets = secrets_of(json, token="Authorization" in headers)
        ensure_safe_url(self.base_url, insecure=self.insecure, secrets=secrets)
        deadline = time.monotonic() + self.total_timeout
        bound = DeadlineTimeout(*self.timeout, deadline=deadline)
        reset = _deadline.set(deadline)
        notice = self._slow_notice()
        try:
            resp = self.session.request(
                method, url, json=json, params=params, headers=headers, timeout=bound
            )
        except requests.exceptions.SSLError as exc:
            raise UnreachableError(_tls_problem(exc), url=self.base_url) from exc
        except requests.exceptions.Timeout as exc:
            raise UnreachableError("timeout", url=self.base_url) from exc
        except requests.exceptions.RetryError as exc:
            raise UnreachableError("server_error", url=self.base_url, status="5xx") from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.InvalidURL) as exc:
            # A GET that timed out on every retry arrives here as a ConnectionError.
            code = "timeout" if _timed_out(exc) else "unreachable"
            raise UnreachableError(code, url=self.base_url) from exc
        except requests.exceptions.RequestException as exc:
            raise UnreachableError("unreachable", url=self.base_url) from exc
        finally:
            _deadline.reset(reset)
            if notice is not None:
                notice.cancel()

        self.last_status = resp.status_code
        if resp.status_code >= 400:
            error = from_problem(resp.status_code, _json_or_none(resp))
            if optional_auth and self.token and error.code == "auth_required":
                # A stale stored token must not stop a public read: ask again anonymously.
                return LibraryClient(
                    self.base_url,
                    lang=self.lang,
                    session=self.session,
                    timeout=self.timeout,
                    insecure=self.insecure,
                    on_slow=self.on_slow,
                )._request(method, path, json=json, params=params, auth=False)
            raise error
        if raw:  # a file (not JSON): the caller checks what it got
            return resp.content
        if resp.status_code == 204 or not resp.content:
            return None
        body = _json_or_none(resp)
        if not isinstance(body, dict):
            # Not JSON, cut short, an HTML page, or JSON of the wrong shape: not our server.
            raise ServerError("bad_response", status=resp.status_code, url=self.base_url)
        return body

    def _slow_notice(self) -> threading.Timer | None:
        if self.on_slow is None:
            return None
        notice, self.on_slow = threading.Timer(SLOW_NOTICE_AFTER, self.on_slow), None
        notice.daemon = True
        notice.start()
        return notice

    # -- public -------------------------------------------------------------------------

    def library(self) -> dict[str, Any]:
        return self._request("GET", "/library", auth=False)

    def search(
        self, query: str | None, *, limit: int = 20, offset: int = 0, **fields: Any
    ) -> dict[str, Any]:
        """`fields`: type, title, author, publisher, isbn, reservable (None/False: unset)."""
        if query is not None and not query.strip():
            raise UsageProblem("empty_query")  # checked here, before a request is spent on it
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if query:
            params["q"] = query
        params.update({k: v for k, v in fields.items() if v not in (None, False)})
        if params.get("reservable") is True:
            params["reservable"] = "true"
        return self._request("GET", "/catalog/search", params=params, optional_auth=True)

    def title(self, title_id: str) -> dict[str, Any]:
        return self._request("GET", f"/catalog/titles/{_seg(title_id)}", optional_auth=True)

    def login(self, card: str, password: str) -> dict[str, Any]:
        return self._request(
            "POST", "/auth/login", json={"card": card, "password": password}, auth=False
        )

    def request_password_reset(self, card: str, email: str) -> Any:
        return self._request(
            "POST", "/password-reset", json={"card": card, "email": email}, auth=False
        )

    def confirm_password_reset(self, token: str, new_password: str) -> None:
        self._request(
            "POST",
            "/password-reset/confirm",
            json={"token": token, "new_password": new_password},
            auth=False,
        )

    # -- the patron's own ---------------------------------------------------------------

    def logout(self) -> None:
        self._request("POST", "/auth/logout")

    def me(self) -> dict[str, Any]:
        return self._request("GET", "/me")

    def change_password(self, current_password: str, new_password: str) -> None:
        self._request(
            "PUT",
            "/me/password",
            json={"current_password": current_password, "new_password": new_password},
        )

    def change_email(self, email: str, current_password: str) -> dict[str, Any]:
        return self._request(
            "PUT", "/me/email", json={"email": email, "current_password": current_password}
        )

    def favorites(self) -> list[dict[str, Any]]:
        return (self._request("GET", "/favorites") or {}).get("items", [])

    def add_favorite(self, title_id: str) -> bool:
        """True when added, False when it was a favorite already (201 / 204)."""
        self._request("PUT", f"/favorites/{_seg(title_id)}")
        return self.last_status != 204

    def remove_favorite(self, title_id: str) -> None:
        self._request("DELETE", f"/favorites/{_seg(title_id)}")

    def reserve(
        self, title_ids: list[str], *, pickup: str, contact: str, email_confirmation: bool
    ) -> dict[str, Any]:
        return self._request(
            "POST",
            "/reservations",
            json={
                "title_ids": list(title_ids),
                "pickup": pickup,
                "contact": contact,
                "email_confirmation": email_confirmation,
            },
        )

    def status(self) -> dict[str, Any]:
        return self._request("GET", "/status")

    def cancel(self, reservation_id: str) -> None:
        self._request("DELETE", f"/reservations/{_seg(reservation_id)}")

    def suspend(self, reservation_id: str, until: str) -> None:
        self._request(
            "PUT", f"/reservations/{_seg(reservation_id)}/suspension", json={"until": until}
        )

    def resume(self, reservation_id: str) -> None:
        self._request("DELETE", f"/reservations/{_seg(reservation_id)}/suspension")

    def renew(self, barcodes: list[str] | None) -> dict[str, Any]:
        """Renew the loans of these copies (every loan when None)."""
        body = {"all": True} if barcodes is None else {"barcodes": list(barcodes)}
        return self._request("POST", "/loans/renewals", json=body)

    def calendar(self) -> tuple[bytes, int]:
        """The patron's dates as the server's iCalendar file, and how many events it has;
        an answer that is not a calendar is `bad_response` (never written to a file)."""
        import icalendar

        data = self._request("GET", "/me/calendar.ics", raw=True)
        try:
            events = icalendar.Calendar.from_ical(data).walk("VEVENT")
        except ValueError as exc:
            raise ServerError("bad_response", status=self.last_status, url=self.base_url) from exc
        return data, len(events)

    def calendar_subscribe(self) -> str:
        return (self._request("POST", "/me/calendar/feed") or {}).get("url") or ""

    def calendar_revoke(self) -> bool:
        return bool((self._request("DELETE", "/me/calendar/feed") or {}).get("revoked"))

    def set_reminders(self, on: bool) -> dict[str, Any]:
        return self._request("PUT", "/me/reminders", json={"reminders": on})

    def events(self, *, due_within: int = 2) -> list[dict[str, Any]]:
        """Holds ready or recently expired, loans due within `due_within` days or overdue."""
        answer = self._request("GET", "/me/events", params={"due_within": due_within})
        return (answer or {}).get("events", [])


def _seg(value: object) -> str:
    return quote(str(value), safe="")


#: What OpenSSL says when the other side answered TLS with plain http.
_PLAIN_HTTP_SIGNS = ("wrong version number", "record layer failure", "packet length too long",
                     "http request", "unknown protocol")  # fmt: skip


def _tls_problem(exc: BaseException) -> str:
    """tls_plain_http (https spoken to a plain-http server), tls_failed (the certificate)
    or tls_error (anything else in the handshake)."""
    text = str(exc).lower()
    if any(sign in text for sign in _PLAIN_HTTP_SIGNS):
        return "tls_plain_http"
    if "certificate" in text:
        return "tls_failed"
    return "tls_error"


def _timed_out(exc: BaseException) -> bool:
    from urllib3.exceptions import ReadTimeoutError

    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, ReadTimeoutError)


def _json_or_none(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None
