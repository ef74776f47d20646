"""The `skyddat-boende` command. Errors are one line on stderr and a non-zero exit, never a traceback wall."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from skyddat_boende import database, migrations
from skyddat_boende.config import ConfigError, Settings, load_settings

DEFAULT_OPENAPI_PATH = Path("api_docs/openapi.json")
EXIT_ERROR = 2


class CommandError(Exception):
    """A command cannot do what was asked; the message is for the person at the terminal."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return args.run(settings, args) or 0
    except (ConfigError, database.DatabaseUnavailable, migrations.MigrationError, CommandError) as exc:
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
    serve.add_argument("--demo", action="store_true", help="load demo data first if the database has none")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply pending migrations and exit")
    migrate.add_argument("--check", action="store_true", help="only report; exit 1 if migrations are pending")
    migrate.set_defaults(run=_migrate)

    demo = commands.add_parser("demo-data", help="load a deterministic national demo data set")
    demo.add_argument("--seed", type=int, default=2024)
    demo.add_argument("--shelters", type=int, default=260, help="number of shelters (default 260)")
    demo.set_defaults(run=_demo_data)

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=DEFAULT_OPENAPI_PATH)
    openapi.set_defaults(run=_openapi)
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

    found = migrations.discover(settings.sql_dir)

    async def prepare(conn, url) -> str:
        await migrations.migrate(conn, found)
        if args.demo:
            from skyddat_boende import demo_data

            if not await demo_data.present(conn):
                await demo_data.load(conn, seed=2024, shelters=260)
        return url

    url = _on_database(settings, prepare)
    configure_logging(settings.log_level)
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"serving on http://{host}:{port} (API reference: http://{host}:{port}/schema)", file=sys.stderr)
    uvicorn.run(create_app(settings, database_url=url), host=host, port=port, log_config=None, server_header=False)
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
