"""One refusal reads the same in libcli as on the library's pages and in its mails.

The server's words for each refusal code (libcli.server.errors.MESSAGES, the
libcli_server catalogue) are what its pages show and what every problem carries in
`messages`; libcli shows them, then its own next step, and keeps a copy
(libcli.errors.SERVER_WORDS, the libcli catalogue) for answers that carry only a code.
These tests compare both sides for every code, so neither can drift."""

from __future__ import annotations

import json

import pytest

from libcli import errors, i18n
from libcli.server import errors as server_errors
from libcli.server.api.problems import problem
from libcli.server.i18n import _ as server_gettext

CODES = sorted(server_errors.MESSAGES)
LANGS = ("ja", "en")


@pytest.fixture(params=LANGS)
def lang(request):
    i18n.set_language(request.param)
    yield request.param
    i18n.reset()


def _servers_sentence(code: str, lang: str) -> str:
    return server_gettext(server_errors.MESSAGES[code][1], lang)


def _as_libcli_shows_it(body: dict) -> str:
    return errors.from_problem(body["status"], body).message()


def test_libcli_has_the_servers_words_for_every_refusal_code():
    assert set(errors.SERVER_WORDS) == set(server_errors.MESSAGES)
    for code, (_status, words) in server_errors.MESSAGES.items():
        assert errors.SERVER_WORDS[code] == words, code


@pytest.mark.parametrize("code", CODES)
def test_libcli_translates_each_refusal_as_the_server_does(code, lang):
    """The copy, in the patron's language, is the server's sentence in that language."""
    assert i18n._(errors.SERVER_WORDS[code]) == _servers_sentence(code, lang)


@pytest.mark.parametrize("code", CODES)
def test_libcli_shows_the_servers_sentence_first_for_every_refusal(code, lang):
    """The problem the server sends for `code`, as libcli shows it: the server's sentence
    in the patron's language, then at most libcli's next step; also when the answer
    carries no `messages` (libcli's copy then stands in)."""
    body = json.loads(problem(code).body)
    sentence = _servers_sentence(code, lang)
    assert body["messages"][lang] == sentence
    shown = _as_libcli_shows_it(body)
    assert shown.startswith(sentence), (shown, sentence)
    step = errors.NEXT_STEPS.get(code)
    assert shown == sentence if step is None else shown != sentence
    without_words = {k: v for k, v in body.items() if k != "messages"}
    assert _as_libcli_shows_it(without_words).startswith(sentence)


def test_a_skipped_titles_reason_reads_as_the_server_says_it(lang):
    """A reservation's skipped titles carry only a reason code: libcli's words for it
    are the server's sentence."""
    from libcli.vocab import reason_text

    for code in ("not_a_book", "on_shelf", "reference_only", "no_copies", "limit_reached"):
        assert reason_text(code) == _servers_sentence(code, lang)
