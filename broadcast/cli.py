"""Command line: ``flask --app broadcast <group> <command>``.

Every command first creates or migrates the schema, so each works on a fresh DATABASE_URL.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from broadcast.db.models import Level, Structure
from broadcast.errors import DomainError
from broadcast.i18n import _
from broadcast.services import area_outlines, areas, demo, stations, users


def with_session(command):
    """Migrate the schema, open a session for the command, and turn domain errors into clean exits."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        database = current_app.extensions["database"]
        database.upgrade()
        with database.sessions() as session:
            try:
                return command(session, *args, **kwargs)
            except DomainError as exc:
                session.rollback()
                click.echo(_("Error: %(message)s", message=str(exc.message)), err=True)
                sys.exit(1)

    return wrapper


db_cli = AppGroup("db", help="Database schema.")
areas_cli = AppGroup("areas", help="Administrative areas.")
users_cli = AppGroup("users", help="People and their API tokens.")
stations_cli = AppGroup("stations", help="Loudspeaker stations.")
demo_cli = AppGroup("demo", help="Demo data for a first look.")
jobs_cli = AppGroup("jobs", help="The job scheduler.")
items_cli = AppGroup("items", help="News items and their audio.")
schedule_cli = AppGroup("schedule", help="Compiling stations' playlists.")
delivery_cli = AppGroup("delivery", help="Getting playlists to stations.")


@db_cli.command("upgrade")
def db_upgrade():
    """Create the schema or migrate it to the newest revision."""
    database = current_app.extensions["database"]
    database.upgrade()
    click.echo(_("Database schema at revision %(rev)s.", rev=database.current_revision()))


@areas_cli.command("load")
@click.option("--province", required=True, help='Name or code, e.g. "Hà Giang" or 02.')
@click.option("--structure", type=click.Choice([s.value for s in Structure]), default=Structure.CURRENT.value,
              show_default=True, help="legacy: province/district/commune before 1 July 2025; 2025: after.")
@with_session
def areas_load(session: Session, province: str, structure: str):
    """Load a province's official administrative units (safe to run again)."""
    report = areas.load_province(session, province, Structure(structure))
    created = ", ".join(f"{level} {n}" for level, n in report.created.items()) or "0"
    click.echo(_("%(province)s (%(structure)s): created %(created)s; updated %(updated)s; "
                 "linked %(links)s legacy communes to their successors.", province=report.province,
                 structure=report.structure.value, created=created, updated=report.updated,
                 links=report.successions))


@areas_cli.command("outlines")
@click.argument("geojson", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--structure", type=click.Choice([s.value for s in Structure]), default=Structure.CURRENT.value,
              show_default=True, help="Which administrative map the file's codes belong to.")
@click.option("--code-property", default=None,
              help="The feature property holding the statistics-office codes (default: found by matching).")
@with_session
def areas_outlines(session: Session, geojson: Path, structure: str, code_property: str | None):
    """Import area boundaries for the station map from a GeoJSON file (WGS 84); all of them or none."""
    report = area_outlines.import_outlines(session, "cli", geojson.read_bytes(), source=geojson.name,
                                           structure=Structure(structure), code_property=code_property)
    imported = ", ".join(f"{level} {n}" for level, n in sorted(report.imported.items()))
    click.echo(_("Imported %(n)s boundaries (%(levels)s) matched by the property %(key)s.", n=report.total,
                 levels=imported, key=report.code_property))
    if report.not_matched:
        click.echo(_("%(n)s features name no area of this map: %(names)s", n=len(report.not_matched),
                     names=", ".join(report.not_matched[:20]) + (" …" if len(report.not_matched) > 20 else "")))


@areas_cli.command("stats")
@click.option("--structure", type=click.Choice([s.value for s in Structure]), default=None,
              help="Count one structure only (default: both).")
@with_session
def areas_stats(session: Session, structure: str | None):
    """Print how many units each level holds, one LEVEL: COUNT line per level."""
    counts = areas.level_counts(session, Structure(structure) if structure else None)
    for level in Level:
        click.echo(f"{level.value}: {counts[level.value]}")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "editor", "approver", "operator"]))
@click.option("--scope", "scope_code", default=None, help="Statistics-office code of the user's area.")
@click.option("--full-name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="NEW_USER_PASSWORD", help="Asked for when not given (or set NEW_USER_PASSWORD).")
@with_session
def users_create(session: Session, username: str, role: str, scope_code: str | None, full_name: str, password: str):
    """Create a person's account."""
    scope_area = areas.find_area(session, scope_code) if scope_code else None
    user = users.create_user(session, username=username, password=password, role=users.parse_role(role),
                             scope_area=scope_area, full_name=full_name)
    click.echo(_("Created user %(name)s (%(role)s).", name=user.username, role=user.role.value))


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
@with_session
def users_token(session: Session, username: str, name: str):
    """Issue a personal API token (printed once)."""
    click.echo(users.issue_api_token(session, users.get_user(session, username), name))


@stations_cli.command("add")
@click.option("--code", required=True)
@click.option("--commune", "commune_code", required=True, help="Statistics-office code of the commune.")
@click.option("--name", default="")
@click.option("--lat", type=float, default=None)
@click.option("--lon", type=float, default=None)
@click.option("--speakers", type=int, default=0)
@click.option("--sftp-push/--no-sftp-push", default=False, help="Push playlists over SFTP.")
@click.option("--http-pull/--no-http-pull", default=True, help="Let the station poll over HTTP.")
@click.option("--ssh-host")
@click.option("--ssh-port", type=int, default=22)
@click.option("--ssh-user")
@click.option("--ssh-remote-dir")
@click.option("--ssh-host-key", help='The host key to pin, "ssh-ed25519 AAAA...".')
@with_session
def stations_add(session: Session, code: str, commune_code: str, **options):
    """Add a station in a commune."""
    commune = areas.find_area(session, commune_code, level=Level.COMMUNE)
    station = stations.add_station(session, stations.StationSpec(code=code, commune=commune, **options))
    click.echo(_("Added station %(code)s in %(commune)s.", code=station.code, commune=commune.name))


@stations_cli.command("token")
@click.argument("code")
@with_session
def stations_token(session: Session, code: str):
    """Issue a new token for a station (printed once; the old one stops working)."""
    click.echo(stations.issue_token(session, stations.get_station(session, code)))


@stations_cli.command("pin-host-key")
@click.argument("code")
@click.argument("key_line")
@with_session
def stations_pin_host_key(session: Session, code: str, key_line: str):
    """Pin a station's SSH host key ("ssh-ed25519 AAAA...") after checking it on the box; pushes resume."""
    from datetime import UTC, datetime

    from broadcast.services import deliveries

    deliveries.pin_host_key(session, stations.get_station(session, code), key_line, actor="cli",
                            now=datetime.now(UTC))
    click.echo(_("Pinned the host key of %(code)s.", code=code))


@stations_cli.command("list")
@with_session
def stations_list(session: Session):
    """List all stations with their commune and status."""
    for station in stations.all_stations(session):
        click.echo(f"{station.code}\t{station.commune.code}\t{station.status.value}\t{station.name}")


@demo_cli.command("seed")
@with_session
def demo_seed(session: Session):
    """Load Hà Giang (legacy) and Tuyên Quang (2025), demo users, stations and a schedule (safe to run again)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(current_app.extensions["settings"].timezone)).date()
    for line in demo.seed(session, today):
        click.echo(line)


@demo_cli.command("agents")
@click.option("--server", "server_url", required=True, help="The service's address, e.g. http://127.0.0.1:5000")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="One folder per agent here.")
@click.argument("codes", nargs=-1)
@with_session
def demo_agents(session: Session, server_url: str, out_dir: str, codes: tuple[str, ...]):
    """Write a station.toml (with a new token) for each demo agent, playing through ffplay with no sound card."""
    import json
    from pathlib import Path

    for code in codes or ("HG1-01", "HG1-02"):
        token = stations.issue_token(session, stations.get_station(session, code))
        folder = Path(out_dir) / code
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "station.toml"
        config.write_text("\n".join([
            "# Written by `flask --app broadcast demo agents`: a demo agent with no sound card.",
            f"server_url = {json.dumps(server_url)}",
            f"token = {json.dumps(token)}",
            f"station = {json.dumps(code)}",
            'cache_dir = "."',
            'player = ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "{file}"]',
            'player_env = {SDL_AUDIODRIVER = "dummy"}',
            "poll_interval_s = 10",
            "heartbeat_interval_s = 15",
            "",
        ]), encoding="utf-8")
        config.chmod(0o600)  # it holds the token
        click.echo(str(config))


@demo_cli.command("icecast")
@click.option("--folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where its configuration, passwords and logs are kept.")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address it listens on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Its port, or a free one if taken.")
def demo_icecast(folder: Path, host: str, port: int):
    """Write a local Icecast server's configuration for live announcements; print LIVE_ICECAST_URL,
    LIVE_LISTEN_URL and ICECAST_CONFIG as shell assignments (the passwords are kept for the next start)."""
    import json
    import secrets
    import shlex
    import socket

    from broadcast.services import icecast_config

    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / "passwords.json"
    passwords = json.loads(kept.read_text()) if kept.exists() else {
        "source": secrets.token_hex(12), "admin": secrets.token_hex(12)}
    kept.write_text(json.dumps(passwords))
    kept.chmod(0o600)
    anywhere = host in ("0.0.0.0", "::")  # noqa: S104 - the service's own HOST, as the operator set it
    bind, reach = ("0.0.0.0", "127.0.0.1") if anywhere else (host, host)  # noqa: S104
    with socket.socket() as probe:
        try:
            probe.bind((bind, port))
        except OSError:  # taken (another service, another demo): any free port instead
            probe.bind((bind, 0))
        port = probe.getsockname()[1]
    config = icecast_config.write(folder, port=port, source_password=passwords["source"],
                                  admin_password=passwords["admin"], host=bind, log_to_stderr=True)
    for name, value in (("LIVE_ICECAST_URL", f"icecast://source:{passwords['source']}@{reach}:{port}"),
                        ("LIVE_LISTEN_URL", f"http://{reach}:{port}"), ("ICECAST_CONFIG", str(config))):
        click.echo(f"{name}={shlex.quote(value)}")


@demo_cli.command("live-session")
@click.option("--in", "lead_s", type=int, default=45, show_default=True, help="Seconds from now.")
@with_session
def demo_live_session(session: Session, lead_s: int):
    """Add a short session starting soon with the demo bulletin, so demo agents air it within a minute."""
    from datetime import UTC, datetime

    click.echo(demo.live_session(session, current_app.extensions["settings"], now=datetime.now(UTC), lead_s=lead_s))


@items_cli.command("render")
@click.option("--all", "render_all", is_flag=True, help="Queue every approved speech item again first.")
@click.option("--limit", type=int, default=10_000, show_default=True)
@with_session
def items_render(session: Session, render_all: bool, limit: int):
    """Render the items waiting for audio now, with a progress bar (the scheduler does this by itself)."""
    from sqlalchemy import func, select, update

    from broadcast.audio_setup import audio_tools
    from broadcast.db.models import ContentSource, ItemStatus, NewsItem, RenderState
    from broadcast.services import rendering

    if render_all:
        session.execute(update(NewsItem).where(NewsItem.status == ItemStatus.APPROVED,
                                               NewsItem.content_source == ContentSource.SPEECH)
                        .values(render_state=RenderState.PENDING))
        session.commit()
    waiting = session.scalar(select(func.count(NewsItem.id)).where(NewsItem.render_state == RenderState.PENDING))
    tools = audio_tools(current_app.extensions["settings"])
    failed = 0
    with click.progressbar(length=min(waiting, limit), label=_("Rendering"), show_pos=True) as bar:
        def advance(item):
            nonlocal failed
            failed += item.render_state is RenderState.FAILED
            bar.update(1)

        rendering.render_pending(session, tools, limit=limit, progress=advance)
    click.echo(_("Rendered %(done)s items; %(failed)s failed.", done=min(waiting, limit) - failed, failed=failed))
    if failed:
        sys.exit(1)


@schedule_cli.command("compile")
@click.option("--station", "codes", multiple=True, help="Only these stations (repeatable); default: all.")
@click.option("--days", type=int, default=None, help="How many days from today (default: SCHEDULE_DAYS).")
@with_session
def schedule_compile(session: Session, codes: tuple[str, ...], days: int | None):
    """Compile playlists and manifests now and print the fit problems found."""
    from datetime import UTC, datetime

    from broadcast.services import compiler

    ids = [stations.get_station(session, code).id for code in codes] or None
    report = compiler.compile_stations(session, current_app.extensions["settings"], now=datetime.now(UTC),
                                       station_ids=ids, days=days)
    click.echo(_("Compiled %(stations)s stations: %(days)s days and %(manifests)s playlists changed.",
                 stations=report.stations, days=report.days_changed, manifests=report.manifests_changed))
    vietnamese = current_app.config["BABEL_DEFAULT_LOCALE"] == "vi"
    for summary in report.summaries():
        click.echo(f"[{summary.severity}] {summary.text_vi if vietnamese else summary.text_en}")


@delivery_cli.command("ssh-key")
def delivery_ssh_key():
    """Print the service's SSH public key (made on first use), for each push station's authorized_keys."""
    from broadcast.services import pushing

    click.echo(pushing.public_key_line(current_app.extensions["settings"]))


@delivery_cli.command("push")
@with_session
def delivery_push(session: Session):
    """Push every due SFTP delivery now (the scheduler does this every 15 seconds)."""
    from datetime import UTC, datetime

    from broadcast.services import pushing

    run = pushing.push_due(session, current_app.extensions["settings"], now=datetime.now(UTC))
    click.echo(_("Pushed %(sent)s; %(failed)s failed.", sent=run.sent, failed=run.failed))
    if run.failed:
        sys.exit(1)


@jobs_cli.command("run")
def jobs_run():
    """Run the job scheduler in the foreground: it leads (one for the whole service) or stands by.

    Several may be started (on PostgreSQL, on several machines): while one leads, the others wait, and
    one of them takes over within seconds when the leader stops or dies. A leader that loses the lead (its
    database connection dropped) or its loop exits at once with status 75, for its supervisor to restart it."""
    from broadcast.jobs.scheduler import run_forever

    current_app.extensions["database"].upgrade()
    run_forever(current_app.extensions["settings"])


@jobs_cli.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Tasks at once (default: one per CPU).")
def jobs_worker(concurrency: int | None):
    """Run a worker of the task queue (TASK_BROKER_URL) in the foreground: it reads items aloud, compiles
    shares of the stations and pushes SFTP deliveries that the scheduler sends. Start any number, on any
    machine that reaches the database, the broker and the audio store."""
    from broadcast.jobs.worker import worker_app

    settings = current_app.extensions["settings"]
    if not settings.task_broker_url:
        raise click.UsageError(_("TASK_BROKER_URL is not set: without a task queue the scheduler does this work "
                                 "itself (flask jobs run)."))
    argv = ["worker", "--loglevel=INFO", f"--queues={settings.task_queue}", "--without-gossip", "--without-mingle"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    worker_app(settings).worker_main(argv)


alerts_cli = AppGroup("alerts", help="Emergency alerts from other systems (OASIS CAP 1.2).")


@alerts_cli.command("import-cap")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only check the alert and print where and how it would air.")
@with_session
def alerts_import_cap(session: Session, file: str, dry_run: bool):
    """Import a CAP 1.2 alert and print the outcome as JSON (class, risk level, stations, what was done).

    An emergency alert becomes an emergency broadcast: sent at once when its sender is in CAP_TRUSTED_SENDERS,
    else waiting for an approver. Update and Cancel act on the alerts they reference. With --dry-run nothing
    is changed."""
    import json
    from datetime import UTC, datetime
    from pathlib import Path

    from broadcast import alerts
    from broadcast.alerts import importing
    from broadcast.audio_setup import audio_tools
    from broadcast.services import emergency_delivery

    data = Path(file).read_bytes()
    settings = current_app.extensions["settings"]
    if dry_run:
        plan = alerts.plan_import(session, data, now=datetime.now(UTC))
        session.rollback()  # a dry run leaves the database as it found it
        click.echo(json.dumps(plan.as_json(), ensure_ascii=False, indent=2))
        return
    policy = importing.CapPolicy(tuple(settings.cap_accepted_senders), tuple(settings.cap_trusted_senders),
                                 importing.outbound.OutboundPolicy.from_text(settings.outbound_allow_networks))
    result = importing.import_cap(session, data, now=datetime.now(UTC), policy=policy, tools=audio_tools(settings))
    emergency_delivery.dispatch(settings, result.outgoing)
    click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))


def init_app(app: Flask) -> None:
    for group in (db_cli, areas_cli, users_cli, stations_cli, demo_cli, jobs_cli, items_cli, schedule_cli,
                  delivery_cli, alerts_cli):
        app.cli.add_command(group)
