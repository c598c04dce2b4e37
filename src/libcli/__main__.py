"""Entry point of `libcli` (and `python -m libcli`)."""

import sys


def main() -> None:
    try:
        # Imported here, not at module level, so Ctrl-C during start-up still exits 130.
        from libcli.cli.main import cli
    except KeyboardInterrupt:
        sys.exit(130)
    cli(prog_name="libcli")


if __name__ == "__main__":
    main()
