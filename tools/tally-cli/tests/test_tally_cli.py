"""`tally` against the session's real broker and Postgres."""

import asyncio
import json
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from contracts.topics import TOPICS, USAGE_EVENTS, dlq_topic
from tally_cli import dlq
from tally_cli.main import _parser, main
from tally_stack.dsn import libpq_url
from tally_stack.testing import Infra, consume_all


def dead_letter_headers(reason: str) -> list[tuple[str, bytes]]:
    """What a consumer writes with a message it could not validate (tally_runtime.consumer.dlq_headers)."""
    headers = {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tally-dlq-reason": reason,
        "tally-dlq-topic": USAGE_EVENTS,
        "tally-dlq-partition": "3",
        "tally-dlq-offset": "41",
        "tally-dlq-consumer": "billing",
    }
    return [(name, value.encode()) for name, value in headers.items()]


async def bury(bootstrap: str, key: bytes, value: bytes, reason: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(dlq_topic(USAGE_EVENTS), value, key=key, headers=dead_letter_headers(reason))
    finally:
        await producer.stop()


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = [
        ["dlq", "list"], ["dlq", "show"], ["dlq", "replay"], ["outbox", "status"],
        ["topics", "create"], ["topics", "describe"], ["db", "migrate"], ["analytics", "rebuild"],
    ]  # fmt: skip
    for command in commands:
        with pytest.raises(SystemExit) as exited:
            _parser().parse_args([*command, "--help"])
        assert exited.value.code == 0
        assert "usage: tally " + " ".join(command) in capsys.readouterr().out


def test_dead_letters_are_listed_with_their_reason_shown_and_replayed_onto_their_topic(
    infra: Infra, capsys: pytest.CaptureFixture[str]
) -> None:
    key, value = f"dlq-{uuid4().hex[:8]}".encode(), json.dumps({"id": "not-a-cloudevent"}).encode()
    asyncio.run(bury(infra.kafka_bootstrap, key, value, "body.time: missing"))
    mine = [letter for letter in asyncio.run(dlq.read(infra.kafka_bootstrap, USAGE_EVENTS)) if letter.key == key]
    assert len(mine) == 1 and mine[0].reason == "body.time: missing"
    offset = mine[0].offset

    assert main(["dlq", "list", USAGE_EVENTS, "--bootstrap", infra.kafka_bootstrap, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [row] = [r for r in rows if r["key"] == key.decode()]
    assert (row["offset"], row["reason"], row["origin"]) == (
        offset,
        "body.time: missing",
        f"{USAGE_EVENTS}/3@41 by billing",
    )

    assert main(["dlq", "show", USAGE_EVENTS, str(offset), "--bootstrap", infra.kafka_bootstrap]) == 0
    shown = capsys.readouterr().out
    assert '"tally-dlq-reason": "body.time: missing"' in shown and '"id": "not-a-cloudevent"' in shown

    args = ["dlq", "replay", USAGE_EVENTS, "--offset", str(offset), "--bootstrap", infra.kafka_bootstrap]
    assert main(args) == 0
    assert "replayed 1 dead letter(s)" in capsys.readouterr().out
    replayed = [r for r in asyncio.run(consume_all(infra.kafka_bootstrap, USAGE_EVENTS)) if r.key == key]
    assert [r.value for r in replayed] == [value]
    headers = dict(replayed[0].headers)
    assert headers["tally-replayed-from"] == f"0@{offset}".encode()
    assert "traceparent" in headers and not any(name.startswith("tally-dlq-") for name in headers)


def test_a_message_that_is_no_dead_letter_of_ours_is_not_replayed(infra: Infra) -> None:
    letter = dlq.DeadLetter(0, 7, 0, b"k", b"v", {"traceparent": "x"})
    with pytest.raises(dlq.NotADeadLetter):
        asyncio.run(dlq.replay(infra.kafka_bootstrap, [letter]))


def test_outbox_status_reports_each_service(infra: Infra, capsys: pytest.CaptureFixture[str]) -> None:
    """As a superuser on the session's database: every service's schema is migrated by the tests that use it."""
    session_database = infra.database_urls["billing"].rsplit("/", 1)[1]
    superuser = libpq_url(infra.admin_url).rsplit("/", 1)[0] + "/" + session_database
    assert main(["outbox", "status", "--database-url", superuser]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["billing", "analytics", "assistant", "gateway"]
    for line in lines:
        assert "pending" in line or "no outbox (not migrated)" in line


def test_topics_describe_matches_the_registry(infra: Infra, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topics", "create", "--bootstrap", infra.kafka_bootstrap]) == 0
    assert main(["topics", "describe", "--bootstrap", infra.kafka_bootstrap]) == 0
    described = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    for spec in TOPICS:
        assert f" {spec.partitions} partitions " in described[spec.name] + " "
        assert "registry" not in described[spec.name]


def test_db_migrate_brings_a_service_to_head_and_says_what_it_needs(
    infra: Infra, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["db", "migrate", "billing", "--database-url", infra.database_urls["billing"]]) == 0
    assert "billing: at head" in capsys.readouterr().out
    monkeypatch.delenv("BILLING_DATABASE_URL", raising=False)
    assert main(["db", "migrate", "billing"]) == 2
    assert "set BILLING_DATABASE_URL" in capsys.readouterr().err
