"""The baseline: a bare Click app of the same shape (a group, a command, a choice option)."""

import click


@click.group()
def cli() -> None:
    """Hello."""


@cli.command()
@click.option("--pickup", type=click.Choice(["main", "nango", "center"]))
def greet(pickup: str | None) -> None:
    """Say hello."""
    click.echo(f"hello {pickup}")


@cli.command()
def status() -> None:
    """Show nothing."""


if __name__ == "__main__":
    cli(prog_name="hello", complete_var="_HELLO_COMPLETE")
