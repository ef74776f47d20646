"""The `skyddat-boende` command. Errors are one line on stderr and a non-zero exit, never a traceback wall."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import msgspec

from skyddat_boende import database, migrations
from skyddat_boende.config import ConfigError, Settings, load_settings
from skyddat_boende.feeds import cli as feed_cli
from skyddat_boende.identity.principal import ROLES

DEFAULT_OPENAPI_PATH = Path("api_docs/openapi.json")
DEV_ISSUER_PORT = 8900

EXIT_ERROR = 2


class CommandError(Exception):
    """A command cannot do what was asked; the message is for the person at the terminal."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return args.run(settings, args) or 0
    except (ConfigError, database.DatabaseUnavailable, database.ServiceRoleMissing, migrations.MigrationError,
            CommandError) as exc:
        print(f"skyddat-boende: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skyddat-boende", description="Protected housing matching service.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database, then serve the API")
    serve.add_argument("--host", help="address to listen on (default: SB_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: SB_PORT or 8000)")
    serve.add_argument("--demo", action="store_true",
                       help="load demo data first if the database has none (implies --with-jobs)")
    serve.add_argument("--with-jobs", action="store_true",
                       help="run the periodic jobs in this process too, as a worker does (default: SB_RUN_JOBS)")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="migrate the database, then run the batch, the offer expiry "
                                                "sweep, webhook delivery and housekeeping")
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="apply pending migrations and exit")
    migrate.add_argument("--check", action="store_true", help="only report; exit 1 if migrations are pending")
    migrate.set_defaults(run=_migrate)

    demo = commands.add_parser("demo-data", help="load a deterministic national demo data set")
    demo.add_argument("--seed", type=int, default=2024)
    demo.add_argument("--shelters", type=int, default=260, help="number of shelters (default 260)")
    demo.set_defaults(run=_demo_data)

    audit_cmd = commands.add_parser("audit", help="audit trail tools")
    audit_commands = audit_cmd.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser("verify", help="check the hash chain; exit 1 and say where if broken")
    verify.set_defaults(run=_audit_verify)

    organisation = commands.add_parser("organisation", help="register shelter operators and housing providers")
    organisation_commands = organisation.add_subparsers(dest="organisation_command", required=True, metavar="ACTION")
    add = organisation_commands.add_parser(
        "add", help="register a shelter operator (association or company) or a housing provider")
    add.add_argument("--id", required=True,
                     help="operator-<slug>, e.g. operator-kvinnojouren-lund; housing-<slug> for a housing provider")
    add.add_argument("--kind", required=True, choices=sorted(ORGANISATION_PREFIX))
    add.add_argument("--name", required=True, help="the organisation's name")
    add.add_argument("--municipality", required=True, help="SCB code of its seat, e.g. 1281")
    add.add_argument("--ivo-permit", help="IVO permit reference (shelter operators; a housing provider has none)")
    add.set_defaults(run=_organisation_add)

    batch = commands.add_parser("batch", help="run the national matching batch once")
    batch.set_defaults(run=_batch)

    issuer = commands.add_parser("dev-issuer", help="serve a development token issuer on localhost")
    issuer.add_argument("--port", type=int, default=DEV_ISSUER_PORT)
    issuer.set_defaults(run=_dev_issuer)

    token = commands.add_parser("token", help="print a token signed by the development issuer")
    token.add_argument("--role", choices=sorted(ROLES), help="a person's role; omit for a partner system")
    token.add_argument("--org", required=True, help="organisation id, e.g. kommun-1280")
    token.add_argument("--scope", action="append", default=[], help="scope of a partner system (repeatable)")
    token.add_argument("--lifetime", type=int, default=3600, help="seconds (default 3600)")
    token.set_defaults(run=_token)

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=DEFAULT_OPENAPI_PATH)
    openapi.set_defaults(run=_openapi)

    feed_cli.add_commands(commands)
    return parser


def _on_database(settings: Settings, work: Callable[..., Awaitable[int]]) -> int:
    async def run() -> int:
        url = await database.resolve_database_url(settings.database_url, settings.embedded_pgdata)
        conn = await database.connect(url)
        try:
            return await work(conn, url)
        finally:
            await conn.close()

    return asyncio.run(run())


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    found = migrations.discover(settings.sql_dir)

    async def work(conn, url) -> int:
        if args.check:
            todo = await migrations.pending(conn, found)
            for migration in todo:
                print(f"pending: {migration.label}")
            return 1 if todo else 0
        done = await migrations.migrate(conn, found)
        print(f"applied {len(done)} migration(s)" + (": " + ", ".join(done) if done else "; database is current"))
        return 0

    return _on_database(settings, work)


def _demo_data(settings: Settings, args: argparse.Namespace) -> int:
    from skyddat_boende import demo_data

    found = migrations.discover(settings.sql_dir)

    async def work(conn, url) -> int:
        await migrations.migrate(conn, found)
        try:
            counts = await demo_data.load(conn, seed=args.seed, shelters=args.shelters)
        except demo_data.DemoDataExists as exc:
            raise CommandError(str(exc)) from None
        print("demo data: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
        return 0

    return _on_database(settings, work)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from skyddat_boende.app import create_app
    from skyddat_boende.logs import configure_logging

    if args.demo and not settings.development:  # before touching the database it names
        raise CommandError("--demo runs a development token issuer and needs SB_ENV=development")
    found = migrations.discover(settings.sql_dir)

    async def prepare(conn, url) -> tuple[str, list[str]]:
        await migrations.migrate(conn, found)
        if not settings.development:  # the app's pool checks too; here it ends in one line, not a failed start
            await database.check_service_role(conn, required=True)
        if not args.demo:
            return url, []
        from skyddat_boende import demo_data

        from skyddat_boende.statistics import snapshots

        if not await demo_data.present(conn):
            await demo_data.load(conn, seed=2024, shelters=260)
        # today's figures at once (housekeeping takes them every 10 minutes), so that the open data and the
        # follow-up page have a day to show from the start; a day already taken is kept as it is
        await snapshots.take(conn, dt.datetime.now(dt.timezone.utc), settings.stale_after_hours)
        return url, await demo_data.busiest_operators(conn)

    url, operators = _on_database(settings, prepare)
    settings = msgspec.structs.replace(settings, run_jobs=settings.run_jobs or args.with_jobs or args.demo)
    host = args.host or settings.host
    port = args.port or settings.port
    issuers = load_trusted_issuers_or_fail(settings)
    dev_issuer = _start_demo_issuer(settings, issuers, operators, f"http://{host}:{port}") if args.demo else None
    try:
        app = create_app(settings, database_url=url, trusted_issuers=issuers)
        configure_logging(settings.log_level)
        print(f"serving on http://{host}:{port} (API reference: http://{host}:{port}/schema)"
              + ("; running the periodic jobs too" if settings.run_jobs else ""), file=sys.stderr)
        uvicorn.run(app, host=host, port=port, log_config=None, server_header=False)
    finally:
        if dev_issuer is not None:
            dev_issuer.stop()
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from skyddat_boende.jobs import run_worker
    from skyddat_boende.logs import configure_logging

    found = migrations.discover(settings.sql_dir)

    async def prepare(conn, url) -> str:
        await migrations.migrate(conn, found)
        if not settings.development:  # as `serve`: the worker must not run as the owner in production
            await database.check_service_role(conn, required=True)
        return url

    url = _on_database(settings, prepare)
    configure_logging(settings.log_level)

    def ready(jobs) -> None:
        print("worker running: " + ", ".join(f"{job.name} every {job.period:g} s" for job in jobs.jobs)
              + ", webhook delivery", file=sys.stderr)

    asyncio.run(run_worker(settings, url, ready=ready))
    return 0


def load_trusted_issuers_or_fail(settings: Settings) -> list:
    from skyddat_boende.identity import load_trusted_issuers

    try:
        return load_trusted_issuers(settings.trusted_issuers_json)
    except ValueError as exc:
        raise ConfigError(f"trusted issuers: {exc}") from None


def _development_issuer_module(settings: Settings, what: str):
    """The development issuer's module, which refuses to be imported outside SB_ENV=development; checked
    here too so that a settings object (not only the environment) says development."""
    if not settings.development:
        raise CommandError(f"{what} needs SB_ENV=development")
    from skyddat_boende.identity import dev_issuer

    return dev_issuer


def _start_demo_issuer(settings: Settings, issuers: list, operators: list[str], base_url: str):
    """The demo's development issuer on localhost, trusted by this process only; its login page offers
    test personas (social workers in Malmö and Stockholm, staff at the demo's busiest operators)."""
    from skyddat_boende.identity import TrustedIssuer

    dev = _development_issuer_module(settings, "--demo runs a development token issuer and")
    issuer = dev.DevIssuer(settings.dev_keys_dir, "127.0.0.1", DEV_ISSUER_PORT,
                           personas=dev.demo_personas(operators))
    try:
        issuer.start()
    except OSError as exc:
        raise CommandError(f"cannot start the development issuer on port {DEV_ISSUER_PORT}: {exc.strerror}") from None
    issuer.announce()
    issuers.append(TrustedIssuer(**issuer.trusted_issuer_config(dev.DEFAULT_AUDIENCE)))
    print(f"development issuer at {issuer.url}; log in at {base_url}/ or get a token:\n"
          "  TOKEN=$(SB_ENV=development .venv/bin/skyddat-boende token --role social_worker --org kommun-1280)\n"
          f"  curl -H \"Authorization: Bearer $TOKEN\" {base_url}/api/me", file=sys.stderr)
    return issuer


def _audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from skyddat_boende import audit

    async def work(conn, url) -> int:
        report = await audit.verify(conn)
        if report.ok:
            print(f"audit chain intact: {report.events_checked} events, "
                  f"{report.events_pending} committed since and waiting to be chained")
            return 0
        print(f"audit chain BROKEN at event {report.first_bad_seq}: {report.problem} "
              f"({report.events_checked} events verified before it)")
        return 1

    return _on_database(settings, work)


CLI_ACTOR_SUBJECT = "cli"
#: Which id an organisation registered at the command line has: operators run shelters, housing
#: providers (municipal housing companies, private landlords) publish apartments.
ORGANISATION_PREFIX = {"association": "operator-", "company": "operator-", "housing_provider": "housing-"}
"""Audit actor subject for operations staff at the command line (issuer: the service itself)."""


def _organisation_add(settings: Settings, args: argparse.Namespace) -> int:
    import asyncpg

    from skyddat_boende import audit

    prefix = ORGANISATION_PREFIX[args.kind]
    if not args.id.startswith(prefix):
        raise CommandError(f"a {args.kind.replace('_', ' ')}'s id starts with {prefix} "
                           "(municipalities are registered already)")
    if (args.ivo_permit is None) != (args.kind == "housing_provider"):
        raise CommandError("a shelter operator needs --ivo-permit; a housing provider has none")
    found = migrations.discover(settings.sql_dir)
    actor = audit.Actor(issuer=audit.SYSTEM_ISSUER, subject=CLI_ACTOR_SUBJECT)

    async def work(conn, url) -> int:
        await migrations.migrate(conn, found)
        try:
            async with conn.transaction():  # registering an operator is a trust decision: audited with it
                await conn.execute(
                    """insert into organisation (id, kind, display_name, municipality_code, ivo_permit_ref)
                       values ($1, $2, $3, $4, $5)""",
                    args.id, args.kind, args.name, args.municipality, args.ivo_permit,
                )
                await audit.record(conn, actor, "cli.organisation_add", "organisation", args.id, "succeeded")
        except asyncpg.UniqueViolationError:
            raise CommandError(f"{args.id} is registered already") from None
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise CommandError(f"refused by the database's rules ({exc.constraint_name or 'a constraint'})") from None
        print(f"registered {args.id}")
        return 0

    return _on_database(settings, work)


def _batch(settings: Settings, args: argparse.Namespace) -> int:
    from skyddat_boende.matchmaking import adapter
    from skyddat_boende.matchmaking.batch import run_batch

    async def work(conn, url) -> int:
        places = await adapter.municipalities(conn)
        pool = await database.create_pool(url, max_size=2)
        try:
            report = await run_batch(pool, settings, places, "cli")
        finally:
            await pool.close()
        if report is None:
            print("another process is running the batch right now; nothing done")
            return 1
        print(f"batch {report.run_id}: {report.waiting_requests} waiting, {report.offers_made} offers made "
              f"({report.solver_status}, gap {report.gap:.4f})")
        return 0

    return _on_database(settings, work)


def _dev_issuer(settings: Settings, args: argparse.Namespace) -> int:
    dev = _development_issuer_module(settings, "the development issuer")

    def ready(issuer) -> None:
        print(f"development issuer at {issuer.url}")
        print("trust it with: SB_ENV=development SB_TRUSTED_ISSUERS='"
              + json.dumps([issuer.trusted_issuer_config(dev.DEFAULT_AUDIENCE)]) + "'")

    dev.serve_dev_issuer("127.0.0.1", args.port, settings.dev_keys_dir, on_ready=ready)
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    dev = _development_issuer_module(settings, "a development token")
    if args.role is None and not args.scope:
        raise CommandError("a partner-system token (no --role) needs at least one --scope")
    try:
        print(dev.issue_token(settings.dev_keys_dir, None, dev.DEFAULT_AUDIENCE, args.role, args.org, scopes=args.scope,
                          lifetime=args.lifetime))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return 0


def _openapi(settings: Settings, args: argparse.Namespace) -> int:
    from skyddat_boende.app import create_app

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(openapi_document(create_app(settings)))
    print(f"wrote {args.output}")
    return 0


def openapi_document(app) -> str:
    """The exported OpenAPI document, byte-for-byte what CI compares against api_docs/openapi.json."""
    return json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.exit(main())
