"""Publishing requests' events to usage.events.v1, acknowledged by every in-sync replica before each caller hears
202, by group commit: while a group of requests is out, the requests that arrive join the next group, and each group
goes out as one record per partition. Alone, a request goes out at once; under load, one send and one record per
partition serve many requests, so a consumer reads many single events a message rather than one. A group holds at
most what one request may (MAX_BATCH_EVENTS events, the body limit), so its records are no larger than a full
request's."""

import asyncio
from functools import partial

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from contracts.topics import USAGE_EVENTS
from contracts.usage import MAX_BATCH_EVENTS
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from tally_runtime.kafka import trace_headers

from usage_ingest.events.partitions import partition_of
from usage_ingest.events.service import Submission, to_records

tracer = trace.get_tracer("tally.usage_ingest")


class PublishFailed(Exception):
    """The broker did not acknowledge every record in time; the sender should retry the whole request."""


class _Group:
    def __init__(self, first: Submission) -> None:
        self.submissions = [first]
        self.events = len(first.events)
        self.body_bytes = first.body_bytes
        # what the group's send raised (the followers' answer), or None once every record is acknowledged
        self.outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    def join(self, submission: Submission, max_body_bytes: int) -> bool:
        events, body_bytes = self.events + len(submission.events), self.body_bytes + submission.body_bytes
        if events > MAX_BATCH_EVENTS or body_bytes > max_body_bytes:
            return False
        self.submissions.append(submission)
        self.events, self.body_bytes = events, body_bytes
        return True


class Publisher:
    def __init__(self, producer: AIOKafkaProducer, *, source: str, timeout_s: float, max_body_bytes: int) -> None:
        self.producer = producer
        self.source = source
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self._sending = asyncio.Lock()  # one group out at a time; the next one gathers meanwhile
        self._open: _Group | None = None  # the group requests join, until it goes out

    async def publish(self, submission: Submission) -> None:
        """Returns once every event of `submission` is acknowledged; PublishFailed if not within the timeout."""
        with tracer.start_as_current_span(f"{USAGE_EVENTS} publish", kind=SpanKind.PRODUCER):
            try:
                async with asyncio.timeout(self.timeout_s):
                    group = self._open
                    if group is not None and group.join(submission, self.max_body_bytes):
                        error = await asyncio.shield(group.outcome)
                    else:
                        error = await self._lead(_Group(submission))
            except TimeoutError as exc:
                raise PublishFailed(repr(exc)) from exc
            if error is not None:
                raise PublishFailed(repr(error)) from error

    async def _lead(self, group: _Group) -> BaseException | None:
        """Send `group` once the group before it is acknowledged; the outcome is every member's."""
        self._open = group
        error: BaseException | None = None
        try:
            async with self._sending:
                self._close(group)
                await self._send(group)
        except KafkaError as exc:
            error = exc
        except BaseException as exc:  # timed out or cancelled: its followers cannot know whether it went out
            self._close(group)
            group.outcome.set_result(exc)
            raise
        group.outcome.set_result(error)
        return error

    def _close(self, group: _Group) -> None:
        if self._open is group:
            self._open = None

    async def _send(self, group: _Group) -> None:
        partitions = tuple(sorted(await self.producer.partitions_for(USAGE_EVENTS)))  # known: no request
        records = to_records(group.submissions, self.source, partial(partition_of, partitions=partitions))
        trace.get_current_span().set_attributes(
            {"messaging.batch.message_count": len(records), "tally.publish.requests": len(group.submissions)}
        )
        headers = trace_headers()
        acks = [
            await self.producer.send(
                USAGE_EVENTS, value=record.value, key=record.key, partition=record.partition, headers=headers
            )
            for record in records
        ]
        await asyncio.gather(*acks)
