"""The `dhu` command: database set-up, demo data, import and export."""

import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import click
from pydantic import ValidationError

from dhu_core import (
    accounts,
    audit,
    db,
    demo,
    demo_logins,
    import_file,
    io,
    jobs,
    serve,
    taxonomy,
)
from dhu_core.config import UnsafeSetting, cookie_key, get_settings, normalise_database_url
from dhu_core.models import FieldError, field_errors

#: Who the command line acts as, in the audit trail.
CLI = accounts.system_actor("cli")


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
    demo_logins.hand_out(
        summary.logins,
        database_url=engine.url.render_as_string(hide_password=False),
        settings=get_settings(),
        echo=click.echo,
    )
    if get_settings().embedded:
        click.echo("Start the app with: streamlit run app.py")


@main.command("serve")
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="How many app processes to run.",
)
@click.option("--port", default=8080, show_default=True, help="The port nginx listens on.")
@click.option(
    "--address", default="127.0.0.1", show_default=True, help="The address nginx listens on."
)
@click.option(
    "--worker-port",
    default=8501,
    show_default=True,
    help="The first app process's port; the others follow it (8501, 8502, ...).",
)
@click.option(
    "--nginx-config",
    is_flag=True,
    help="Print the nginx site file for these processes (Debian's nginx) and stop.",
)
@click.option(
    "--no-proxy", is_flag=True, help="Run the app processes only (nginx runs on its own)."
)
def serve_command(
    workers: int, port: int, address: str, worker_port: int, nginx_config: bool, no_proxy: bool
) -> None:
    """Run several app processes on one PostgreSQL database behind nginx, until Ctrl-C."""
    listen = f"{address}:{port}"
    ports = serve.worker_ports(worker_port, workers)
    if nginx_config:
        click.echo(serve.site_config(listen=listen, worker_ports=ports), nl=False)
        return
    settings = get_settings()
    if settings.embedded and workers > 1:
        raise click.ClickException(
            "several processes share one PostgreSQL database: set DATABASE_URL "
            "(and run `dhu init-db` once)"
        )
    if not db.is_at_head():
        raise click.ClickException("the database is not on the newest schema: run `dhu init-db`")
    try:
        cookie_key(settings)  # one key for every process, made before they start
    except UnsafeSetting as error:
        raise click.ClickException(str(error)) from error
    try:
        with serve.running(
            workers=workers,
            listen=listen,
            first_port=worker_port,
            proxy=not no_proxy,
            announce=click.echo,
        ) as processes:
            click.echo("Serving; Ctrl-C stops every process.")
            status = serve.serve_until_stopped(processes, announce=click.echo)
    except serve.ServeError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Stopped.")
    sys.exit(status)


@main.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(taxonomy.ROLES)))
@click.option("--email", required=True)
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.option("--organisation-id", type=int, help="Id of the user's organisation.")
def create_user(
    username: str, role: str, email: str, display_name: str | None, organisation_id: int | None
) -> None:
    """Create an account; the password is read from standard input when it is not a terminal."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        data = accounts.AccountInput(
            username=username,
            display_name=display_name or username,
            email=email,
            password=password,
        )
        engine = db.get_engine()
        db.upgrade(engine)
        with db.session_scope(engine) as session:
            user = accounts.create_user(
                session=session,
                username=data.username,
                password=data.password,
                role=role,
                email=data.email,
                display_name=data.display_name,
                organisation_id=organisation_id,
            )
            audit.record(session, CLI, "account.created", "account", user.id, role=role)
    except (ValidationError, FieldError) as error:
        problems = "; ".join(f"{field}: {msg}" for field, msg in field_errors(error).items())
        raise click.ClickException(problems) from error
    click.echo(f"Created {role} account '{data.username}'.")


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import practices from a CSV or XLSX file (see README, "Import format") as published."""
    engine = db.get_engine()
    db.upgrade(engine)
    try:
        report = io.import_practices(import_file.read_rows(file), engine=engine, actor=CLI)
    except import_file.ImportFileError as error:
        raise click.ClickException(f"{file}: {error}") from error
    click.echo(report.summary())
    for error in report.errors:
        click.echo(str(error), err=True)
    if report.unlisted:
        click.echo(f"… and {report.unlisted:,} more problems", err=True)
    if not report.ok:
        click.echo("Correct the rejected rows and import them again.", err=True)
        raise click.exceptions.Exit(1)


@main.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(io.FORMATS),
    default="csv",
    show_default=True,
    help="File format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write (default: standard output; required for xlsx).",
)
def export_command(fmt: str, output: Path | None) -> None:
    """Export all published practices with the import columns."""
    if fmt == "xlsx" and output is None:
        raise click.UsageError("an xlsx export needs a file: add -o FILE")
    data = io.export_bytes(io.export_practices(engine=db.get_engine()), fmt)
    if output is None:
        click.get_binary_stream("stdout").write(data)
    else:
        output.write_bytes(data)


@main.command("run-jobs")
@click.option(
    "--every",
    type=click.IntRange(1, 24 * 3600),
    help="Run a pass every SECONDS until stopped (default: one pass, for cron).",
)
def run_jobs(every: int | None) -> None:
    """Do the work that is due: send the e-mail of the outbox, and every registered job.

    Safe to run from several machines at once: each message is sent by one of them only.
    """
    engine = db.get_engine()
    if not db.is_at_head(engine):
        raise click.ClickException("the database is not at the newest schema; run dhu init-db")
    try:
        while True:
            started = time.monotonic()
            outcomes = jobs.run_once(engine)
            for outcome in outcomes:
                click.echo(f"{outcome.name}: {outcome.summary}", err=not outcome.ok)
            if every is None:
                if not all(outcome.ok for outcome in outcomes):
                    raise click.exceptions.Exit(1)
                return
            time.sleep(max(0.0, every - (time.monotonic() - started)))
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)


@main.command("bench")
@click.option(
    "--practices",
    default=100_000,
    show_default=True,
    type=click.IntRange(1_000, 1_000_000),
    help="Size of the generated data set.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the benchmark databases (default: a temporary folder).",
)
@click.option(
    "--postgresql",
    "postgresql_url",
    help="A PostgreSQL database (its URL) to time 20 concurrent writers on: brought to the "
    "newest schema; of what they write, only an organisation 'Benchwrite organisation' stays.",
)
@click.option(
    "--audience",
    default=100,
    show_default=True,
    type=click.IntRange(1, 1_000),
    help="Audience members of the workshop (see dhu bench-workshop).",
)
def bench_command(
    practices: int, workdir: Path | None, postgresql_url: str | None, audience: int
) -> None:
    """Measure search, similarity, import, uptake, the map page, matching, freshness, e-mail
    delivery, the JSON API, what a write costs the first search after it, and a full workshop.

    Runs on new SQLite files of generated demo data; the configured database is not touched.
    """
    # Imported here: they pull in scikit-learn and SciPy, which the other commands don't need.
    from dhu_core import (
        bench,
        bench_api,
        bench_matching,
        bench_memory,
        bench_outbox,
        bench_uptake,
        bench_workshop,
        bench_writes,
    )

    gc.freeze()  # as the app does once it has started (see dhu_core/ui/shell.py)
    with tempfile.TemporaryDirectory() as temporary:
        folder = workdir or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "bench.sqlite3"
        path.unlink(missing_ok=True)
        engine = db.get_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        seeded = demo.seed_demo(engine=engine, practices=practices)
        click.echo(f"demo data: {practices:,} practices seeded in {seeded.seconds:.1f} s")
        _report(
            "catalogue search (page, total, facet counts)", bench.run_catalogue_bench(engine=engine)
        )
        _report(
            "GET /api/v1/practices over HTTP, beside datasette on the same file",
            bench_api.run_api_bench(database=path),
        )
        _report(
            "first catalogue search after a write (a draft, a publication)",
            bench_writes.run_first_search_bench(engine=engine),
        )
        _report(
            "a publication found by a second process's catalogue search",
            bench_writes.run_visibility_bench(engine=engine),
        )
        _report(
            f"a workshop: {audience} quick captures in 60 s while 3 /live screens refresh",
            bench_workshop.run_workshop_bench(audience=audience, workdir=folder / "workshop"),
        )
        _report("what each index holds", bench_memory.run_index_sizes(engine=engine))
        _report(
            "an app process's resident memory, every page visited by every role",
            bench_memory.run_memory_bench(
                database=path, logins=seeded.logins, workdir=folder / "memory"
            ),
        )
        _report("similar practices", bench.run_similarity_bench(engine=engine))
        _report("import of 10,000 rows", io.run_import_bench(engine=engine))
        _report("twinning matching", bench_matching.run_matching_bench(engine=engine))
        _report(
            "twinning suggestions for needs typed in words",
            bench_matching.run_quality_bench(workdir=folder),
        )
        _report(
            "freshness pass (reminders and archiving)", bench.run_freshness_bench(engine=engine)
        )
        engine.dispose()
        _report(
            "e-mail outbox to a local SMTP server", bench_outbox.run_outbox_bench(workdir=folder)
        )
        if postgresql_url:
            _report(
                "20 concurrent writers on PostgreSQL",
                bench_writes.run_concurrent_writes_bench(
                    url=normalise_database_url(postgresql_url)
                ),
            )
        sizes = tuple(sorted({1_000, 10_000, practices}))
        click.echo("uptake aggregation and the /map page:")
        for row in bench_uptake.run_uptake_bench(sizes=sizes, workdir=folder):
            click.echo("  " + ", ".join(f"{key} {value}" for key, value in row.items()))


@main.command("bench-workshop")
@click.option(
    "--audience",
    default=100,
    show_default=True,
    type=click.IntRange(1, 1_000),
    help="Audience members, each sending one quick capture.",
)
@click.option(
    "--screens",
    default=3,
    show_default=True,
    type=click.IntRange(1, 10),
    help="Big screens showing /live.",
)
@click.option(
    "--seconds",
    default=60,
    show_default=True,
    type=click.IntRange(10, 3_600),
    help="The time within which the audience sends its captures.",
)
@click.option(
    "--every",
    default=5,
    show_default=True,
    type=click.IntRange(1, 60),
    help="The screens' refresh interval in seconds (/live?every=N).",
)
@click.option(
    "--members",
    default="websocket",
    show_default=True,
    type=click.Choice(["websocket", "chromium"]),
    help="Each audience member a Streamlit session over a WebSocket of its own (the server's "
    "work, without a browser's), or a Chromium tab (the whole page, with the browsers on this "
    "machine's cores).",
)
@click.option(
    "--fill-seconds",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0, 60),
    help="WebSocket members: the time between the form drawn and sending it.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1_000),
    help="Audience members with the page open at once [default: all WebSocket members, "
    "6 Chromium tabs].",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="App processes; more than one run behind nginx, as dhu serve runs them.",
)
@click.option(
    "--cold",
    is_flag=True,
    help="Chromium members: each in an empty browser context, without Streamlit's frontend cached.",
)
@click.option("--database-url", help="The database (default: a new embedded one, demo data).")
def bench_workshop_command(
    audience: int,
    screens: int,
    seconds: int,
    every: int,
    members: str,
    fill_seconds: float,
    concurrency: int | None,
    workers: int,
    cold: bool,
    database_url: str | None,
) -> None:
    """Measure a workshop: an audience sends quick captures (over WebSockets, or from Chromium)
    while /live screens refresh in Chromium; errors, captures counted, the capture form's page
    time, CPU and memory of each process."""
    from dhu_core import bench_workshop

    figures = bench_workshop.run_workshop_bench(
        audience=audience,
        screens=screens,
        seconds=seconds,
        every=every,
        members=members,
        fill_seconds=fill_seconds,
        concurrency=concurrency,
        workers=workers,
        cold=cold,
        database_url=database_url,
    )
    _report(
        f"a workshop: {audience} quick captures in {seconds} s, {screens} /live screens", figures
    )


def _report(title: str, figures: dict) -> None:
    click.echo(f"{title}:")
    click.echo(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
