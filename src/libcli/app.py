"""What one run of `libcli` knows: profile, settings, server, language, the session token.

Built by the root command from the global options and handed to every command, so the
commands stay thin: parse, ask `App` for a client, call it, render.
Nothing heavy is imported here at module level.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from libcli.config import DEFAULT_PROFILE, Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from libcli.client import LibraryClient
    from libcli.credentials import StoredToken
    from libcli.vocab import Library

#: How long the library's points and contact methods are trusted before `status` asks again.
LIBRARY_MAX_AGE = 24 * 3600


def slow_notice() -> Callable[[], None] | None:
    """On a terminal, what to say when the server is slow to answer; nothing for scripts."""
    from libcli.output import stderr_is_tty

    if not stderr_is_tty():
        return None

    def notice() -> None:
        from libcli.i18n import _
        from libcli.output import warn

        warn(_("still waiting for the library's server…"))

    return notice


class App:
    def __init__(
        self,
        *,
        profile: str = DEFAULT_PROFILE,
        overrides: dict[str, tuple[Any, str]] | None = None,
        insecure: bool = False,
        debug: bool = False,
    ) -> None:
        self.profile = profile
        self.settings = Settings(profile, overrides)
        self.insecure = insecure
        self.debug = debug

    @property
    def lang(self) -> str:
        from libcli.i18n import current_lang

        return current_lang()

    @cached_property
    def server(self) -> str:
        from libcli.client import ensure_safe_url

        # The plain-http refusal is the client's, per request: only what carries a secret.
        return ensure_safe_url(self.settings.get("server"), secrets=())

    @property
    def card(self) -> str | None:
        return self.settings.get("card")

    # -- the session token -------------------------------------------------------------

    def token(self) -> StoredToken:
        """The token in the documented lookup order; NotLoggedIn when there is none."""
        from libcli.credentials import find_token
        from libcli.errors import NotLoggedIn

        found = find_token(self.server, self.card, self.settings.get("token_storage"))
        if found is None:
            raise NotLoggedIn()
        return found

    def optional_token(self) -> str | None:
        """For public reads: a token if one is at hand, else anonymous (verdicts still shown)."""
        from libcli.errors import CredentialStoreError, NotLoggedIn

        try:
            return self.token().token
        except (NotLoggedIn, CredentialStoreError):
            return None

    def ensure_private(self, *secrets: str) -> None:
        """Refuse now, before a prompt, what the client would refuse to send over plain http."""
        from libcli.client import ensure_safe_url

        ensure_safe_url(self.server, insecure=self.insecure, secrets=secrets)

    # -- clients -----------------------------------------------------------------------

    def client(self, *, login: bool = True) -> LibraryClient:
        from libcli.client import LibraryClient

        token = self.token().token if login else None
        return LibraryClient(
            self.server,
            token=token,
            lang=self.lang,
            insecure=self.insecure,
            on_slow=slow_notice(),
        )

    def public_client(self) -> LibraryClient:
        from libcli.client import LibraryClient

        server = self.server
        return LibraryClient(
            server,
            token=self.optional_token(),
            lang=self.lang,
            insecure=self.insecure,
            on_slow=slow_notice(),
        )

    # -- the library's vocabulary ------------------------------------------------------

    @cached_property
    def library(self) -> Library:
        """The library's service points and contact methods, as last heard from the server."""
        from libcli.vocab import Library

        return Library.cached(self.profile)

    def refresh_library(
        self, client: LibraryClient | None = None, *, max_age: float = 0
    ) -> Library:
        """Ask the server for its points and contact methods (unless the cached answer is
        younger than `max_age` seconds) and keep them for checks and TAB. Best effort: a
        failure leaves what was known."""
        from libcli import cache
        from libcli.errors import LibcliError
        from libcli.vocab import Library

        age = cache.age(self.profile, "points")
        if max_age and age is not None and age < max_age and self.library.source == "cache":
            return self.library
        try:
            fresh = Library.from_server((client or self.client(login=False)).library())
        except LibcliError:
            fresh = None
        if fresh is not None:
            self.remember(**fresh.cache_sections())
            self.library = fresh
        return self.library

    # -- a family's cards -----------------------------------------------------------------

    def family(self) -> list[App]:
        """One `App` per profile of the config file that names a card (a family's cards,
        `--all-profiles`), with this run's flags; each uses its own stored token."""
        import os

        from libcli.config import profile_names
        from libcli.credentials import TOKEN_ENV

        if os.environ.get(TOKEN_ENV):  # one token would speak for every card
            from libcli.errors import UsageProblem

            raise UsageProblem("options_conflict", first="--all-profiles", second=TOKEN_ENV)
        apps = []
        for name in profile_names():
            other = App(
                profile=name,
                overrides=self.settings.overrides,
                insecure=self.insecure,
                debug=self.debug,
            )
            if other.card:
                apps.append(other)
        return apps

    # -- the completion cache ----------------------------------------------------------

    def remember(self, **sections: list[dict[str, Any]]) -> None:
        from libcli import cache

        cache.update(self.profile, **sections)
