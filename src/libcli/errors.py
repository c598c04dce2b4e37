"""The small error hierarchy of the patron side, and the one-line message for each.

Every error carries a machine `code` (the server's problem `code` when the server said
no) and an exit code. A refusal of the server reads in the server's own words
(`messages[lang]` of its answer, else `SERVER_WORDS`), followed by what to do next in
libcli (`NEXT_STEPS`); a code we do not know shows the server's words alone. libcli's
own errors are looked up in `MESSAGES`, in the patron's language.
"""

from __future__ import annotations

from typing import Any

from libcli.exit_codes import ExitCode
from libcli.i18n import N_, _, current_lang

#: The server's refusals (libcli.server.errors.MESSAGES) in the server's own words, so
#: that a refusal reads the same in libcli, on the library's pages and in its mails. The
#: server sends them in each problem's `messages`; these are for an answer that does not
#: carry them (a skipped title carries only its code). tests/meta/test_wording.py keeps
#: both sides identical in English and in Japanese.
SERVER_WORDS: dict[str, str] = {
    "auth_required": N_("Please log in."),
    "invalid_credentials": N_("The card number or password is wrong."),
    "wrong_password": N_("The current password is wrong."),
    "not_found": N_("Not found."),
    "invalid_request": N_("The request is not valid."),
    "weak_password": N_(
        "This password cannot be used: use at least 8 characters, not counting spaces at"
        " either end, and not a common password or one that contains your card number."
    ),
    "invalid_token": N_("This link is invalid, expired or already used: please request a new one."),
    "email_required": N_("Contact by email needs a registered email address."),
    "ready_cannot_cancel": N_(
        "A reservation ready for pickup cannot be cancelled online: please phone the library."
    ),
    "rate_limited": N_("Too many attempts: please wait a while and try again."),
    "unavailable": N_("The service is unavailable: please try again later."),
    "busy": N_("The service is busy: please try again in a moment."),
    "conflict": N_("Not possible in the current state."),
    "not_a_book": N_("Only books can be reserved online: reserve magazines and AV at the counter."),
    "on_shelf": N_("A copy is on the shelf: please come to the library and borrow it."),
    "reference_only": N_("Reference only: please use it inside the library."),
    "no_copies": N_("The library holds no copy of this title."),
    "limit_reached": N_("You have reached the reservation limit."),
    "already_reserved": N_("You already have a reservation for this title."),
    "borrowed_by_you": N_("You are borrowing this title right now."),
    "card_deactivated": N_("This library card is no longer in use: please ask at the counter."),
    "already_cancelled": N_("This reservation is already cancelled."),
    "overdue": N_("This loan is overdue: please return it to the library."),
    "renewal_limit": N_("This loan has been renewed as often as the library allows."),
    "not_suspendable": N_(
        "Only a waiting reservation can be suspended: this one is in transit or ready."
    ),
    "invalid_suspension": N_("Suspend until a day after today and within a year."),
    "reserved_by_others": N_("Another patron is waiting for this title: it cannot be renewed."),
}

#: What to do next in libcli, said after the server's words for a refusal.
NEXT_STEPS: dict[str, str] = {
    "auth_required": N_("Run `libcli login` (your session may have ended)."),
    "invalid_credentials": N_(
        "Check the 9 digits under the barcode of your card, or run `libcli passwd --forgot`"
        " if you forgot the password."
    ),
    "wrong_password": N_("Try again, or run `libcli passwd --forgot`."),
    "not_found": N_("Check the ID with `libcli search`, `libcli fav list` or `libcli status`."),
    "invalid_token": N_("Ask for a new link with `libcli passwd --forgot`."),
    "email_required": N_("Run `libcli email set ADDRESS`, or choose another contact method."),
    "ready_cannot_cancel": N_("The library's number: {phone}."),
    "rate_limited": N_("Try again in {retry_after} seconds."),
    "invalid_suspension": N_("Give the day as --until YYYY-MM-DD."),
}

#: One line per code of libcli's own, with what to do next. Placeholders are filled from
#: the error's params.
MESSAGES: dict[str, str] = {
    # UsageProblem's default code
    "invalid_request": N_("The server did not accept the request: {detail}"),
    # our own codes
    "server_error": N_("The library's server had a problem (HTTP {status}): try again later."),
    "unreachable": N_(
        "Cannot reach the library's server at {url}: check the address"
        " (`libcli config get server`) and your network, then try again."
    ),
    "timeout": N_("The library's server at {url} did not answer in time: try again later."),
    "tls_failed": N_(
        "The secure connection to {url} failed (certificate not trusted): check the server address."
    ),
    "tls_plain_http": N_(
        "The server at {url} does not speak https (it answered in plain http): check the"
        " address; an http:// address is sent in plain text (--insecure for another machine)."
    ),
    "tls_error": N_(
        "The secure connection to {url} failed: check the server address, or try again later."
    ),
    "bad_response": N_(
        "The server at {url} did not answer like a library server (HTTP {status}):"
        " check the address with `libcli config get server`."
    ),
    "insecure_url": N_(
        "Refusing to send your {secrets} over plain http to {url}:"
        " use an https:// address, or pass --insecure if you trust the network."
    ),
    "bad_url": N_("{url} is not a server address: give one like https://library.example.org."),
    "not_logged_in": N_("You are not logged in: run `libcli login`."),
    "keyring_unavailable": N_(
        "No system keyring can keep your session token here. Three ways out: install or"
        " unlock a keyring (GNOME Keyring, KWallet, macOS Keychain); or set LIBCLI_TOKEN to a"
        " session token (`libcli token` prints one where you are logged in); or log in with"
        " --insecure-storage (a 0600 file)."
    ),
    "keyring_plain_text": N_(
        "The default keyring here ({detail}) keeps secrets in plain text, so libcli does not"
        " use it. Three ways out: install or unlock a real keyring (GNOME Keyring, KWallet,"
        " macOS Keychain); or set LIBCLI_TOKEN to a session token (`libcli token` prints one"
        " where you are logged in); or log in with --insecure-storage (a 0600 file)."
    ),
    "keyring_timeout": N_(
        "The system keyring did not answer within {seconds} seconds (locked, or no D-Bus"
        " session?): unlock it, set LIBCLI_TOKEN, or log in with --insecure-storage."
    ),
    "keyring_failed": N_(
        "The system keyring failed ({detail}): unlock it, set LIBCLI_TOKEN,"
        " or log in with --insecure-storage."
    ),
    "keyring_readback": N_(
        "The system keyring did not keep the session token: use another keyring backend,"
        " set LIBCLI_TOKEN, or log in with --insecure-storage."
    ),
    "token_file_failed": N_("Cannot use the token file {path} ({detail}): check its permissions."),
    "config_invalid": N_("The config file {path} cannot be read ({detail}): fix or delete it."),
    "config_write_failed": N_("Cannot write the config file {path} ({detail})."),
    "config_value": N_("Invalid value {value!r} for {key}: {hint}"),
    "config_unknown_key": N_("Unknown setting {key!r}: see `libcli config list`."),
    "config_unset": N_("{key} is not set: set it with `libcli config set {key} VALUE`."),
    "profile_name": N_("Invalid profile name {name!r}: use letters, digits, '-' and '_'."),
    "confirmation_needed": N_(
        "Confirmation needed but there is no terminal: add --yes to go ahead."
    ),
    "password_needed": N_("No terminal to ask for the password: pipe it in with --password-stdin."),
    "card_needed": N_("Give your card number: `libcli login CARD`."),
    "empty_input": N_("Nothing was read from standard input: {what}."),
    "choice_needed": N_(
        "Give {option} (no default is configured; set one with `libcli config set {key} VALUE`)."
    ),
    "empty_query": N_(
        "Give words to search for: a title, an author, a publisher or an ISBN"
        " (`libcli search 夏目漱石`)."
    ),
    "nothing_to_reserve": N_("Nothing to reserve: give TITLE_IDs or --favorites."),
    "options_conflict": N_("{first} cannot be used with {second}."),
    "option_needs": N_("{first} needs {second}."),
    "output_failed": N_("Cannot write the output to {output}: {reason}."),
    "unexpected": N_("Unexpected error ({detail}): run again with --debug and report it."),
}


#: The secrets a request may carry, as the patron names them (the plain-http refusal).
SECRETS: dict[str, str] = {
    "card": N_("card number"),
    "password": N_("password"),
    "current_password": N_("password"),
    "new_password": N_("new password"),
    "token": N_("password-reset link"),
    "session_token": N_("session token"),
}


class LibcliError(Exception):
    """Base of every error a patron may see."""

    exit_code: ExitCode = ExitCode.UNEXPECTED
    default_code = "unexpected"

    def __init__(self, code: str | None = None, **params: Any) -> None:
        self.code = code or self.default_code
        self.params = params
        super().__init__(self.code)

    def message(self) -> str:
        template = MESSAGES.get(self.code)
        if template is None:
            return self.code
        params = dict(self.params)
        if isinstance(params.get("secrets"), tuple | list):
            names = dict.fromkeys(_(SECRETS.get(k, k)) for k in params["secrets"])
            params["secrets"] = _(" and ").join(names)
        return _format(_(template), params)


class UsageProblem(LibcliError):
    """The patron's input or situation does not allow the command (exit 2)."""

    exit_code = ExitCode.USAGE
    default_code = "invalid_request"


class ConfigError(UsageProblem):
    default_code = "config_invalid"


class CredentialStoreError(LibcliError):
    """The keyring or the token file cannot be used: a clean exit, never a silent fallback."""

    exit_code = ExitCode.AUTH
    default_code = "keyring_unavailable"


class NotLoggedIn(LibcliError):
    exit_code = ExitCode.AUTH
    default_code = "not_logged_in"


class UnreachableError(LibcliError):
    """Connection refused, timeout, TLS failure or a 5xx answer (exit 3)."""

    exit_code = ExitCode.UNREACHABLE
    default_code = "unreachable"


class ApiError(LibcliError):
    """The server answered with an application/problem+json (or an unexpected body)."""

    def __init__(
        self,
        code: str | None,
        *,
        status: int,
        problem: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        self.status = status
        self.problem = problem or {}
        params.setdefault("status", status)
        detail = self.problem.get("detail") or self.problem.get("title") or ""
        params.setdefault("detail", detail)
        for key in ("phone", "retry_after"):
            if key in self.problem and key not in params:
                params[key] = self.problem[key]
        super().__init__(code or "server_error", **params)

    def server_message(self) -> str | None:
        return self._servers_words() or self._servers_detail()

    def _servers_words(self) -> str | None:
        """The refusal in the patron's language, as the server said it (`messages`)."""
        messages = self.problem.get("messages")
        if isinstance(messages, dict):
            text = messages.get(current_lang()) or messages.get("en")
            if isinstance(text, str) and text:
                return text
        return None

    def _servers_detail(self) -> str | None:
        for key in ("detail", "title"):
            text = self.problem.get(key)
            if isinstance(text, str) and text:
                return text
        return None

    def message(self) -> str:
        if self.code in SERVER_WORDS:
            # The server's words (those of its pages and mails; for `invalid_request`,
            # which field was wrong and how), then libcli's next step.
            words = self._servers_words() or _(SERVER_WORDS[self.code])
            step = NEXT_STEPS.get(self.code)
            if step is None:
                return words
            return _("{refusal} {next_step}").format(
                refusal=words, next_step=_format(_(step), self._step_params())
            )
        if self.status >= 500:
            # Not "busy": the server failed; its own words would not say what to do.
            return _format(_(MESSAGES["server_error"]), self.params)
        return self.server_message() or _format(_(MESSAGES["server_error"]), self.params)

    def _step_params(self) -> dict[str, Any]:
        params = dict(self.params)
        if not params.get("phone"):
            params["phone"] = _("the number printed on your card")
        if not params.get("retry_after"):
            params["retry_after"] = 60
        return params


class AuthError(ApiError):
    exit_code = ExitCode.AUTH


class RefusedError(ApiError):
    exit_code = ExitCode.REFUSED


class NotFoundError(ApiError):
    exit_code = ExitCode.NOT_FOUND


class InvalidRequestError(ApiError):
    exit_code = ExitCode.USAGE


class ServerError(ApiError, UnreachableError):
    exit_code = ExitCode.UNREACHABLE


#: Which class a server `code` maps to; unknown codes fall back on the HTTP status.
CODE_CLASSES: dict[str, type[ApiError]] = {
    "auth_required": AuthError,
    "invalid_credentials": AuthError,
    "wrong_password": AuthError,
    "invalid_token": AuthError,
    "not_found": NotFoundError,
    "invalid_request": InvalidRequestError,
    "weak_password": RefusedError,
    "email_required": RefusedError,
    "ready_cannot_cancel": RefusedError,
    "already_cancelled": RefusedError,
    "already_reserved": RefusedError,
    "limit_reached": RefusedError,
    "rate_limited": RefusedError,
    "busy": ServerError,
}


def error_for_status(status: int) -> type[ApiError]:
    if status >= 500:
        return ServerError
    if status == 401:
        return AuthError
    if status == 404:
        return NotFoundError
    if status in (400, 422):
        return InvalidRequestError
    if status in (403, 409, 429):
        return RefusedError
    return ApiError


def from_problem(status: int, problem: dict[str, Any] | None) -> ApiError:
    """Map an HTTP error answer to the typed error carrying the server's `code`."""
    problem = problem if isinstance(problem, dict) else None
    code = problem.get("code") if problem else None
    if not isinstance(code, str) or not code:
        code = None
    cls = CODE_CLASSES.get(code or "") or error_for_status(status)
    if code is None:
        code = "server_error" if status >= 500 else _fallback_code(status)
    return cls(code, status=status, problem=problem)


def _fallback_code(status: int) -> str:
    return {
        401: "auth_required",
        404: "not_found",
        422: "invalid_request",
        429: "rate_limited",
    }.get(status, "server_error")


def _format(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template
