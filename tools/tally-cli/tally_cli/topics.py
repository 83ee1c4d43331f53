"""Create every topic of the registry, and its dead-letter topic, on a Kafka-protocol broker."""

import logging
from collections.abc import Iterable, Sequence
from typing import Protocol

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code
from contracts.topics import DLQ_PARTITIONS, dlq_topic

log = logging.getLogger(__name__)


class TopicLike(Protocol):
    """What topic creation needs of a `contracts.topics.TopicSpec`."""

    @property
    def name(self) -> str: ...
    @property
    def partitions(self) -> int: ...
    @property
    def retention_ms(self) -> int | None: ...
    @property
    def compacted(self) -> bool: ...


def topic_configs(spec: TopicLike) -> dict[str, str]:
    configs: dict[str, str] = {}
    if spec.compacted:
        configs["cleanup.policy"] = "compact"
    if spec.retention_ms is not None:
        configs["retention.ms"] = str(spec.retention_ms)
    return configs


def wanted_topics(topics: Iterable[TopicLike]) -> dict[str, tuple[int, dict[str, str]]]:
    """{name: (partitions, configs)} for every topic and its DLQ (DLQs take the broker's defaults)."""
    wanted: dict[str, tuple[int, dict[str, str]]] = {}
    for spec in topics:
        wanted[spec.name] = (spec.partitions, topic_configs(spec))
        wanted[dlq_topic(spec.name)] = (DLQ_PARTITIONS, {})
    return wanted


async def create_topics(bootstrap: str, topics: Iterable[TopicLike]) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are (Tansu 0.6 cannot
    add partitions, and adding some would move keys between partitions anyway), with a warning when
    their partition count differs from the registry's."""
    wanted = wanted_topics(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics()}
        for name, (partitions, _) in wanted.items():
            if name in existing and existing[name] != partitions:
                log.warning("topic %s has %d partitions, the registry says %d", name, existing[name], partitions)
        new = [
            NewTopic(name, partitions, 1, topic_configs=configs)
            for name, (partitions, configs) in wanted.items()
            if name not in existing
        ]
        if not new:
            return
        response = await admin.create_topics(new)
        for error in response.to_object()["topic_errors"]:
            code = error["error_code"]
            if code not in (0, TopicAlreadyExistsError.errno):
                raise for_code(code)(f"cannot create topic {error['topic']}: {error['error_message']}")
    finally:
        await admin.close()


async def describe_topics(bootstrap: str, topics: Iterable[TopicLike]) -> list[dict[str, object]]:
    """Each registry topic and its DLQ as the broker has it: partitions (the registry's, for comparison), and the
    messages each partition holds (its high watermark)."""
    wanted = wanted_topics(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(list(wanted))}
    finally:
        await admin.close()
    marks = await high_watermarks(bootstrap, [name for name in wanted if existing.get(name)])
    return [
        {
            "topic": name,
            "partitions": existing.get(name, 0),
            "registry_partitions": partitions,
            "configs": configs,
            "messages": sum(marks.get(name, {}).values()),
        }
        for name, (partitions, configs) in wanted.items()
    ]


async def high_watermarks(bootstrap: str, topics: Sequence[str]) -> dict[str, dict[int, int]]:
    """{topic: {partition: offset after its last message}}, read by fetching (Tansu's end offsets are unreliable)."""
    marks: dict[str, dict[int, int]] = {topic: {} for topic in topics}
    if not topics:
        return marks
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=500)
        for partition in consumer.assignment():
            marks[partition.topic][partition.partition] = consumer.highwater(partition) or 0
    finally:
        await consumer.stop()
    return marks
