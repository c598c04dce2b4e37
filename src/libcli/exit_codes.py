"""The exit codes of `libcli`, documented in `man libcli` and the README."""

from enum import IntEnum


class ExitCode(IntEnum):
    """What a script calling `libcli` can rely on."""

    OK = 0
    #: a bug or an unforeseen condition; `--debug` shows the traceback
    UNEXPECTED = 1
    #: wrong options or arguments, or a confirmation needed without a terminal
    USAGE = 2
    #: cannot reach the server: connection refused, timeout, TLS failure, 5xx
    UNREACHABLE = 3
    #: not logged in, session expired, wrong credentials, or no usable keyring
    AUTH = 4
    #: refused by a library rule; whatever could be done was done and listed
    REFUSED = 5
    #: no such title, favorite or reservation
    NOT_FOUND = 6
    #: interrupted (Ctrl-C)
    INTERRUPTED = 130
