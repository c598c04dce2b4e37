def main() -> None:
    from libcli.server.console import main as console_main

    console_main()


if __name__ == "__main__":
    main()
