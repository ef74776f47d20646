"""`skyddat-boende feed add|list|poll-now|serve|schema|new-key`: pull feeds from the terminal.

Secrets are read from standard input (one line), never from the command line, where other users of the
machine could see them in the process list."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path

import msgspec

from skyddat_boende.config import Settings

SCHEMA_PATH = Path("api_docs/feed.schema.json")


def add_commands(commands) -> None:
    feed = commands.add_parser("feed", help="pull feeds: register, list, poll now, serve files for development")
    actions = feed.add_subparsers(dest="feed_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register an organisation's feed (secret, if any, on stdin)")
    add.add_argument("--org", required=True, help="the organisation whose availability the feed publishes")
    add.add_argument("--url", required=True)
    add.add_argument("--interval", type=int, default=300, help="seconds between polls (60-86400, default 300)")
    add.add_argument("--secret-header", metavar="NAME", help="send this header with the secret read from stdin")
    add.add_argument("--oauth-token-url", help="OAuth 2 client credentials: the partner's token endpoint")
    add.add_argument("--oauth-client-id", help="the client id (its secret is read from stdin)")
    add.add_argument("--oauth-scope")
    add.add_argument("--map", action="append", default=[], metavar="THEIRS=UNIT_ID",
                     help="map the partner's stable unit id to this service's unit id (repeatable)")
    add.set_defaults(run=_add)
    listing = actions.add_parser("list", help="every feed and its status")
    listing.add_argument("--org", help="only this organisation's")
    listing.set_defaults(run=_list)
    poll = actions.add_parser("poll-now", help="fetch due feeds now (with --org or --id: those, due or not)")
    poll.add_argument("--org")
    poll.add_argument("--id", type=uuid.UUID)
    poll.set_defaults(run=_poll_now)
    serve = actions.add_parser("serve", help="development feed server: serve DIR's files with ETags")
    serve.add_argument("directory", type=Path)
    serve.add_argument("--port", type=int, default=8901)
    serve.set_defaults(run=_serve)
    schema = actions.add_parser("schema", help="write the feed document's JSON Schema")
    schema.add_argument("--output", type=Path, default=SCHEMA_PATH)
    schema.set_defaults(run=_schema)
    key = actions.add_parser("new-key", help="print a new SB_FEED_SECRET_KEY")
    key.set_defaults(run=lambda settings, args: print(_vault(None).new_key()) or 0)


def _vault(settings: Settings | None):
    from skyddat_boende.feeds.secrets import Vault

    return Vault(settings.feed_secret_key if settings else None)


def _body(args: argparse.Namespace) -> dict:
    secret = sys.stdin.readline().strip() if (args.secret_header or args.oauth_client_id) else None
    body: dict = {"url": args.url, "interval_seconds": args.interval,
                  "unit_ids": dict(pair.split("=", 1) for pair in args.map)}
    if args.secret_header:
        body["secret_header"] = {"name": args.secret_header, "value": secret}
    if args.oauth_client_id:
        body["oauth"] = {"token_url": args.oauth_token_url, "client_id": args.oauth_client_id,
                         "client_secret": secret, "scope": args.oauth_scope}
    return body


def _add(settings: Settings, args: argparse.Namespace) -> int:
    import asyncpg

    from skyddat_boende import audit
    from skyddat_boende.cli import CLI_ACTOR_SUBJECT, CommandError, _on_database
    from skyddat_boende.feeds import repository
    from skyddat_boende.feeds.schemas import FeedCreate
    from skyddat_boende.feeds.secrets import NoKey
    from skyddat_boende.webhooks.destinations import checked_url

    try:
        data = msgspec.convert(_body(args), FeedCreate)
    except (msgspec.ValidationError, ValueError) as exc:
        raise CommandError(f"invalid feed: {exc}") from None

    async def work(conn, url) -> int:
        try:
            checked = await checked_url(data.url, allow_loopback_http=settings.development)
            async with conn.transaction():
                feed = await repository.create(conn, args.org, checked, data, _vault(settings),
                                               settings.stale_after_hours)
                actor = audit.Actor(issuer=audit.SYSTEM_ISSUER, subject=CLI_ACTOR_SUBJECT)
                await audit.record(conn, actor, "cli.feed_add", "availability_feed", str(feed.id), "succeeded")
        except (ValueError, NoKey) as exc:
            raise CommandError(str(exc)) from None
        except asyncpg.UniqueViolationError:
            raise CommandError("the organisation has an active feed already, or a unit is mapped twice") from None
        except asyncpg.ForeignKeyViolationError:
            raise CommandError(f"no organisation {args.org}") from None
        print(f"registered feed {feed.id} for {args.org}; first poll at the next round")
        return 0

    return _on_database(settings, work)


def _list(settings: Settings, args: argparse.Namespace) -> int:
    from skyddat_boende.cli import _on_database
    from skyddat_boende.feeds import repository

    async def work(conn, url) -> int:
        for feed in await repository.list_for(conn, args.org, settings.stale_after_hours, 10_000, 0):
            print(json.dumps(msgspec.to_builtins(feed), ensure_ascii=False))
        return 0

    return _on_database(settings, work)


def _poll_now(settings: Settings, args: argparse.Namespace) -> int:
    from skyddat_boende import database
    from skyddat_boende.feeds import poller, repository

    async def run() -> int:
        url = await database.resolve_database_url(settings.database_url, settings.embedded_pgdata)
        pool = await database.create_pool(url, max_size=4)
        try:
            if args.org or args.id:
                await repository.make_due(pool, args.org, args.id)
            polled = await poller.poll_due(pool, settings)
        finally:
            await pool.close()
        print(f"polled {polled} feed(s)")
        return 0

    return asyncio.run(run())


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from skyddat_boende.cli import CommandError
    from skyddat_boende.feeds.dev_server import FeedServer

    if not settings.development:
        raise CommandError("the development feed server runs only with SB_ENV=development")
    server = FeedServer(args.directory, port=args.port)
    print(f"serving {args.directory} at {server.url('')} (Ctrl-C stops)")
    try:
        server._thread.join()
    except KeyboardInterrupt:
        server.close()
    return 0


def _schema(settings: Settings, args: argparse.Namespace) -> int:
    from skyddat_boende.feeds import document

    args.output.write_text(json.dumps(document.json_schema(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}")
    return 0
