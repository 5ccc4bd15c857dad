"""The `dhu` command: database set-up and demo data."""

import click

from dhu_core import db, demo
from dhu_core.config import get_settings


@click.group()
def main() -> None:
    """DHU Platform administration. The database is DATABASE_URL, else the embedded file."""


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database to the newest schema (rows are kept)."""
    engine = db.get_engine()
    db.upgrade(engine)
    click.echo(f"Database ready at the newest schema: {engine.url.render_as_string()}")


@main.command("demo")
@click.option(
    "--practices",
    default=demo.DEFAULT_PRACTICES,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="How many practices to generate.",
)
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
@click.option("--reset", is_flag=True, help="Replace the data of an existing demo database.")
def demo_command(practices: int, seed: int, reset: bool) -> None:
    """Load the deterministic demo data set into an empty (or, with --reset, a demo) database."""
    engine = db.get_engine()
    db.upgrade(engine)
    load = demo.reset_demo if reset else demo.seed_demo
    try:
        summary = load(engine=engine, practices=practices, seed=seed)
    except demo.DemoError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Demo data loaded in {summary.seconds:.1f} s: {summary.practices:,} practices, "
        f"{summary.organisations:,} organisations in {summary.countries} countries, "
        f"{summary.needs:,} twinning needs, {summary.matches:,} matches, "
        f"{summary.digests} digests, {summary.accounts} accounts."
    )
    if get_settings().embedded:
        click.echo("Start the app with: streamlit run app.py")
