"""`tally <group> <command>`: every command has --help. Kafka from --bootstrap or KAFKA_BOOTSTRAP_SERVERS; Postgres
from --database-url or DATABASE_URL (outbox status), or the service's own <SERVICE>_DATABASE_URL (db migrate)."""

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from contracts.topics import TOPICS

from tally_cli import db, dlq, outbox, topics


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (db.NoDatabaseUrl, dlq.NotADeadLetter, LookupError) as exc:
        print(f"tally: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tally", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)
    bootstrap = argparse.ArgumentParser(add_help=False)
    bootstrap.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))

    letters = groups.add_parser("dlq", help="the dead-letter topics").add_subparsers(dest="command", required=True)
    listing = letters.add_parser("list", parents=[bootstrap], help="what a topic's DLQ holds, and why")
    listing.add_argument("topic", help="e.g. usage.events.v1 (or usage.events.v1.dlq)")
    listing.add_argument("--from-offset", type=int, default=0)
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(run=_dlq_list)
    show = letters.add_parser("show", parents=[bootstrap], help="one dead letter: headers and body")
    show.add_argument("topic")
    show.add_argument("offset", type=int)
    show.add_argument("--partition", type=int, default=0)
    show.set_defaults(run=_dlq_show)
    again = letters.add_parser("replay", parents=[bootstrap], help="put dead letters back on their topic")
    again.add_argument("topic")
    again.add_argument("--from-offset", type=int, default=0, help="replay from this DLQ offset on (default: all)")
    again.add_argument("--offset", type=int, action="append", help="only these DLQ offsets (repeatable)")
    again.set_defaults(run=_dlq_replay)

    boxes = groups.add_parser("outbox", help="the services' outboxes").add_subparsers(dest="command", required=True)
    state = boxes.add_parser("status", help="events written but not yet published, per service")
    state.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    state.set_defaults(run=_outbox_status)

    kafka = groups.add_parser("topics", help="the registry's topics").add_subparsers(dest="command", required=True)
    kafka.add_parser("create", parents=[bootstrap], help="create the missing ones (and DLQs)").set_defaults(
        run=_topics_create
    )
    kafka.add_parser("describe", parents=[bootstrap], help="partitions and messages, per topic").set_defaults(
        run=_topics_describe
    )

    database = groups.add_parser("db", help="service schemas").add_subparsers(dest="command", required=True)
    upgrade = database.add_parser("migrate", help="upgrade a service's schema to head")
    upgrade.add_argument("service", choices=sorted(db.PACKAGES))
    upgrade.add_argument("--database-url", help="default: the service's <SERVICE>_DATABASE_URL")
    upgrade.set_defaults(run=_db_migrate)

    analytics = groups.add_parser("analytics", help="analytics").add_subparsers(dest="command", required=True)
    rebuild = analytics.add_parser("rebuild", help="rebuild every projection from the topics' beginning")
    rebuild.add_argument("rest", nargs=argparse.REMAINDER, help="passed to `python -m analytics rebuild`")
    rebuild.set_defaults(run=_analytics_rebuild)
    return parser


def _dlq_list(args: argparse.Namespace) -> None:
    for letter in asyncio.run(dlq.read(args.bootstrap, args.topic, from_offset=args.from_offset, limit=args.limit)):
        row = {
            "partition": letter.partition,
            "offset": letter.offset,
            "at": _time(letter.timestamp_ms),
            "key": (letter.key or b"").decode(errors="replace"),
            "origin": letter.origin,
            "reason": letter.reason,
        }
        print(
            json.dumps(row)
            if args.json
            else "{partition}@{offset}  {at}  key={key}  {origin}\n    {reason}".format(**row)
        )


def _dlq_show(args: argparse.Namespace) -> int:
    letters = asyncio.run(dlq.read(args.bootstrap, args.topic, from_offset=args.offset))
    found = [letter for letter in letters if (letter.partition, letter.offset) == (args.partition, args.offset)]
    if not found:
        print(f"tally: no dead letter at {args.partition}@{args.offset}", file=sys.stderr)
        return 1
    letter = found[0]
    print(json.dumps({"headers": letter.headers, "key": (letter.key or b"").decode(errors="replace")}, indent=2))
    print(_pretty(letter.value))
    return 0


def _dlq_replay(args: argparse.Namespace) -> None:
    letters = asyncio.run(dlq.read(args.bootstrap, args.topic, from_offset=args.from_offset))
    if args.offset:
        letters = [letter for letter in letters if letter.offset in set(args.offset)]
    count = asyncio.run(dlq.replay(args.bootstrap, letters))
    print(f"replayed {count} dead letter(s) onto their topics")


def _outbox_status(args: argparse.Namespace) -> None:
    if not args.database_url:
        raise db.NoDatabaseUrl("set DATABASE_URL or pass --database-url")
    for backlog in asyncio.run(outbox.status(args.database_url)):
        if backlog.pending is None:
            print(f"{backlog.schema:10} no outbox (not migrated)")
        else:
            age = f"oldest {backlog.oldest_age_s:.0f} s" if backlog.oldest_age_s is not None else "empty"
            print(f"{backlog.schema:10} {backlog.pending:8d} pending  {age}")


def _topics_create(args: argparse.Namespace) -> None:
    asyncio.run(topics.create_topics(args.bootstrap, TOPICS))
    print(f"{len(topics.wanted_topics(TOPICS))} topics exist")


def _topics_describe(args: argparse.Namespace) -> None:
    for row in asyncio.run(topics.describe_topics(args.bootstrap, TOPICS)):
        drift = "" if row["partitions"] == row["registry_partitions"] else f" (registry: {row['registry_partitions']})"
        counts = f"{row['partitions']:3} partitions{drift}  {row['messages']:>10} messages"
        print(f"{row['topic']:32} {counts}  {row['configs']}")


def _db_migrate(args: argparse.Namespace) -> None:
    where = asyncio.run(db.migrate_service(args.service, args.database_url))
    print(f"{args.service}: at head ({where})")


def _analytics_rebuild(args: argparse.Namespace) -> None:
    os.execvp(sys.executable, [sys.executable, "-m", "analytics", "rebuild", *args.rest])


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _pretty(value: bytes) -> str:
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        return value.decode(errors="replace")
    return json.dumps(parsed, indent=2)


if __name__ == "__main__":
    raise SystemExit(main())
