"""serve, migrate, users, crews, devices, demo-seed."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click
import msgspec
from litestar import Litestar

from server import http_server
from server.accounts.model import Crew, Role, User
from server.app import create_app
from server.cli.common import (
    OPERATOR,
    data_dir_option,
    json_option,
    open_services,
    output,
    settings_from,
)
from server.clock import system_clock
from server.db import migrate as apply_migrations
from server.db import open_store, schema_version
from server.demo import seed_demo
from server.services import Services
from server.workers import Supervisor, service_jobs


@click.command(help="Run the HTTP service (127.0.0.1 by default).")
@click.option("--demo", is_flag=True, help="fill an empty store with demo data first")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--db", "db_path", default=None, help="path of the SQLite file")
@click.option("--workers/--no-workers", default=True, show_default=True,
              help="run the outbox, deadline scan and clean-up in this process "
                   "(--no-workers: run `waterops worker` elsewhere)")
@data_dir_option
@click.option("--processes", default=None, type=click.IntRange(1, 64),
              help="HTTP processes on one socket (setting http_processes; default 1)")
def serve(demo: bool, host: str | None, port: int | None, db_path: str | None,
          workers: bool, data_dir: str | None, processes: int | None) -> None:
    if db_path is not None:
        data_dir, db_file = str(Path(db_path).parent), Path(db_path).name
    else:
        db_file = None
    settings = settings_from(data_dir, db_file, host=host, port=port, demo=demo or None,
                             workers=workers, http_processes=processes)
    services = Services(settings, system_clock)
    if settings.demo:
        tokens = seed_demo(services)
        token_file = Path(settings.data_dir) / "demo-tokens.json"
        token_file.write_text(json.dumps(tokens, indent=2, ensure_ascii=False))
        click.echo(f"demo data ready; device tokens in {token_file}")
        for user, token in tokens.items():
            click.echo(f"  {user:14s} Authorization: Bearer {token}")
    click.echo(f"waterops on http://{settings.host}:{settings.port}  (OpenAPI: /schema); "
               f"{settings.http_processes} HTTP process(es); background workers "
               f"{'in the first process' if settings.workers else 'off'}")
    logging.basicConfig(level=logging.INFO)
    if settings.http_processes == 1:
        http_server.run(create_app(settings, clock=system_clock, services=services), settings)
        return
    # each process opens its own store after the fork (server.http_server.run_processes)
    services.close()

    def build(index: int) -> Litestar:
        own = settings if index == 0 else msgspec.structs.replace(settings, workers=False)
        return create_app(own, clock=system_clock, services=Services(own, system_clock))

    raise SystemExit(http_server.run_processes(build, settings, settings.http_processes))


@click.command(help="Run the background jobs (outbox, deadline scan, clean-ups, network scopes)"
                    " without HTTP.")
@click.option("--once", is_flag=True, help="run every job once, then stop")
@click.option("--interval", default=None, type=float, help="seconds between outbox passes")
@click.option("--worker-id", default="worker", help="names this worker's outbox leases")
@click.option("--db", "db_path", default=None, help="path of the SQLite file")
@data_dir_option
@json_option
def worker(once: bool, interval: float | None, worker_id: str, db_path: str | None,
           data_dir: str | None, as_json: bool) -> None:
    if db_path is not None:
        data_dir, db_file = str(Path(db_path).parent), Path(db_path).name
    else:
        db_file = None
    settings = settings_from(data_dir, db_file, worker_interval_s=interval)
    services = Services(settings, system_clock)
    supervisor = Supervisor(service_jobs(services, interval_s=settings.worker_interval_s,
                                         worker_id=worker_id), system_clock)
    logging.basicConfig(level=logging.INFO)
    try:
        if once:
            ok = supervisor.run_all_once()
            output(supervisor.snapshot(), as_json, lambda states: "\n".join(
                f"{s.name}: {'ok' if ok[s.name] else 'FAILED ' + str(s.last_error)} "
                f"{s.last_result} backlog={s.backlog}" for s in states))
            if not all(ok.values()):
                raise SystemExit(1)
            return
        supervisor.start()
        click.echo(f"waterops worker {worker_id}: {', '.join(j.name for j in supervisor.jobs)}")
        supervisor.wait()
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()
        services.close()


@click.command(help="Apply pending schema migrations and show the schema version.")
@data_dir_option
@json_option
def migrate(data_dir: str | None, as_json: bool) -> None:
    settings = settings_from(data_dir)
    db = open_store(settings, system_clock)
    applied = apply_migrations(db)
    output({"applied": applied, "schema": schema_version(db)}, as_json,
           lambda v: f"applied {len(v['applied'])} migration(s): {', '.join(v['applied']) or '-'}")


@click.command("demo-seed", help="Fill the store with the demo district (idempotent).")
@data_dir_option
@json_option
def demo_seed(data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    output(seed_demo(svc), as_json, lambda v: "\n".join(f"{u}: {t}" for u, t in v.items()))


@click.group(help="Users, crews and devices.")
def accounts() -> None:
    pass


@accounts.command("add-crew", help="Create a crew (its id, its name, its unit).")
@click.argument("crew_id")
@click.argument("name")
@click.option("--unit", default="", help="the organisational unit the crew belongs to")
@data_dir_option
@json_option
def add_crew(crew_id: str, name: str, unit: str, data_dir: str | None, as_json: bool) -> None:
    crew = open_services(data_dir).accounts.create_crew(Crew(id=crew_id, name=name, unit=unit))
    output(crew, as_json, lambda c: f"crew {c.id} created")


@accounts.command("add-user", help="Create a user with a role (field roles name their crew).")
@click.argument("user_id")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="what the user may do (docs/security.md)")
@click.option("--crew", "crew_id", default=None, help="the crew of a field user")
@click.option("--unit", default="", help="the unit a supervisor's view is narrowed to")
@data_dir_option
@json_option
def add_user(user_id: str, name: str, role: str, crew_id: str | None, unit: str,
             data_dir: str | None, as_json: bool) -> None:
    user = open_services(data_dir).accounts.create_user(
        User(id=user_id, name=name, role=Role(role), crew_id=crew_id, unit=unit))
    output(user, as_json, lambda u: f"user {u.id} ({u.role}) created")


@accounts.command("register-device", help="Issue a bearer token (shown once).")
@click.argument("user_id")
@click.option("--label", default="", help="what the device is, e.g. \"crew A tablet 2\"")
@data_dir_option
@json_option
def register_device(user_id: str, label: str, data_dir: str | None, as_json: bool) -> None:
    issued = open_services(data_dir).accounts.register_device(user_id, label)
    output(issued, as_json, lambda t: f"device {t.device_id}: Bearer {t.token}")


@accounts.command("revoke-device",
                  help="Revoke a device's token at once (and end its console sessions).")
@click.argument("device_id")
@data_dir_option
@json_option
def revoke_device(device_id: str, data_dir: str | None, as_json: bool) -> None:
    device = open_services(data_dir).accounts.revoke_device(OPERATOR, device_id)
    output(device, as_json, lambda d: f"device {d.id} revoked at {d.revoked_at}")


core_commands: list[click.Command] = [serve, worker, migrate, demo_seed, accounts]
