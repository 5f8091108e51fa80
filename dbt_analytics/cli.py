"""``streamscope dbt ...``: build the marts, run tests, generate the docs, with the generated profile."""

from __future__ import annotations

from typing import Annotated

import typer

PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def _run(args: list[str], needs_database: bool = True) -> None:
    from core.embedded import RuntimeNotRunning, database_url
    from core.settings import get_settings
    from dbt_analytics.runner import run_dbt

    settings = get_settings()
    try:
        if needs_database:
            database_url(settings)  # a clear message when the embedded server is down, before dbt starts
    except RuntimeNotRunning as missing:
        typer.secho(f"error: {missing}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    result = run_dbt(settings, args)
    if result.returncode:
        raise typer.Exit(result.returncode)


def register(app: typer.Typer) -> None:
    dbt_app = typer.Typer(help="dbt analytics: marts of object counts, rankings and stream activity.",
                          no_args_is_help=True)
    app.add_typer(dbt_app, name="dbt")

    @dbt_app.command("build", context_settings=PASSTHROUGH)
    def build(ctx: typer.Context) -> None:
        """dbt build (models and their tests); extra arguments go to dbt, e.g. --select, --vars, --full-refresh."""
        _run(["build", *ctx.args])

    @dbt_app.command("run", context_settings=PASSTHROUGH)
    def run(ctx: typer.Context) -> None:
        """dbt run (models only); extra arguments go to dbt."""
        _run(["run", *ctx.args])

    @dbt_app.command("test", context_settings=PASSTHROUGH)
    def test(ctx: typer.Context) -> None:
        """dbt test; extra arguments go to dbt."""
        _run(["test", *ctx.args])

    @dbt_app.command("docs", context_settings=PASSTHROUGH)
    def docs(ctx: typer.Context) -> None:
        """dbt docs generate: catalog and manifest (and index.html) under <data dir>/dbt/target."""
        _run(["docs", "generate", *ctx.args])

    @dbt_app.command("exec", context_settings=PASSTHROUGH)
    def exec_(ctx: typer.Context) -> None:
        """Any dbt command with the generated profile, e.g. `streamscope dbt exec debug`."""
        _run(list(ctx.args), needs_database=False)

    @dbt_app.command("profile")
    def profile(show: Annotated[bool, typer.Option("--show", help="Print the file (it may hold a password).")] = False
                ) -> None:
        """Write profiles.yml from the settings and print its path."""
        from core.settings import get_settings
        from dbt_analytics.profiles import write_profiles

        path = write_profiles(get_settings())
        typer.echo(path.read_text() if show else str(path))
