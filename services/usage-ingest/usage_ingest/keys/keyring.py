"""The set of valid API keys, kept in memory from the compacted topic gateway.api-keys.v1.

Every ingest process reads the whole topic without a consumer group (all partitions, from the beginning), then
follows it. It authenticates callers without asking the gateway, so ingest keeps working while the gateway is
down, and a revocation reaches it within one relay poll plus one fetch (well under a second).

A message that cannot be decoded is logged and skipped: the ring is a view that each process rebuilds, not a
consumer group that commits past a message, so there is no one place to dead-letter it from (every replica would
send its own copy to the DLQ). Skipping only ever loses an issue (a key that does not work): the gateway's topic
is written from its own validated models, so a bad message means a bug to fix, and the log says where.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from contracts.api_keys import ApiKeyEvent, ApiKeyIssuedEvent, ApiKeyRevokedEvent
from contracts.envelope import error_reason
from contracts.topics import API_KEYS
from pydantic import TypeAdapter, ValidationError
from tally_runtime.api_keys import HASH_ALGORITHM, ApiKeyGrant
from tally_runtime.kafka import FETCH_MAX_WAIT_MS
from tally_runtime.metrics import EVENTS_CONSUMED

log = logging.getLogger(__name__)
EVENTS: TypeAdapter[ApiKeyIssuedEvent | ApiKeyRevokedEvent] = TypeAdapter(ApiKeyEvent)
GROUP_LABEL = "usage-ingest-keyring"  # the metrics' group label: the ring has no consumer group
POLL_TIMEOUT_MS = 200  # how often an idle ring checks whether it has caught up
RETRY_DELAY_S = 1.0


class KeyRing:
    """Keys by hash. `apply` is the whole state machine; `start` follows the topic in a background task."""

    def __init__(self, bootstrap_servers: str, topic: str = API_KEYS, client_id: str = "usage-ingest-keyring") -> None:
        self._bootstrap_servers = bootstrap_servers
        self._topic = topic
        self._client_id = client_id
        self._by_hash: dict[str, ApiKeyGrant] = {}
        self._hash_by_id: dict[str, str] = {}
        self._revoked: set[str] = set()  # once revoked, a key stays revoked whatever arrives later
        self._caught_up = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    def find(self, digest: str) -> ApiKeyGrant | None:
        return self._by_hash.get(digest)

    def __len__(self) -> int:
        return len(self._by_hash)

    @property
    def caught_up(self) -> bool:
        """True once the ring has read the topic up to its end as it was at start-up (and stays true)."""
        return self._caught_up.is_set()

    async def ready(self) -> None:
        """The /readyz check: raises until the ring has caught up."""
        if not self.caught_up:
            raise RuntimeError(f"the API keys on {self._topic} are still loading")

    async def wait_caught_up(self, timeout_s: float) -> None:
        await asyncio.wait_for(self._caught_up.wait(), timeout_s)

    def apply(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Apply one message of the topic; an invalid one is logged and skipped."""
        if record.value is None:  # a tombstone: compaction's way to forget the key
            self._forget((record.key or b"").decode(errors="replace"))
            return
        try:
            event = EVENTS.validate_json(record.value)
        except ValidationError as exc:
            log.warning(
                "invalid message on the key topic skipped",
                extra={"topic": record.topic, "offset": record.offset, "reason": error_reason(exc)},
            )
            EVENTS_CONSUMED.labels(record.topic, GROUP_LABEL, "skipped").inc()
            return
        if isinstance(event, ApiKeyRevokedEvent):
            self._revoked.add(event.data.key_id)
            self._forget(event.data.key_id)
        elif event.data.key_id not in self._revoked and event.data.hash_algorithm == HASH_ALGORITHM:
            self._forget(event.data.key_id)
            grant = ApiKeyGrant(event.data.key_id, frozenset(event.data.scopes), event.data.hash)
            self._by_hash[grant.hash] = grant
            self._hash_by_id[grant.key_id] = grant.hash
        EVENTS_CONSUMED.labels(record.topic, GROUP_LABEL, "processed").inc()

    def apply_all(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            self.apply(record)

    def _forget(self, key_id: str) -> None:
        digest = self._hash_by_id.pop(key_id, None)
        if digest is not None:
            self._by_hash.pop(digest, None)

    async def start(self) -> None:
        """Connect and assign every partition of the topic (raises if the broker or topic is missing); the
        catching up and the following happen in the background."""
        consumer = AIOKafkaConsumer(
            self._topic,
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._task = asyncio.create_task(self._follow(consumer), name="key-ring")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await _close(self._consumer)

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS, max_records=1000)
                for records in batches.values():
                    self.apply_all(records)
                if not self.caught_up and await _at_end(consumer):
                    log.info("API keys loaded", extra={"topic": self._topic, "keys": len(self)})
                    self._caught_up.set()
            except Exception:
                log.exception("reading %s failed; retrying", self._topic)
                await asyncio.sleep(RETRY_DELAY_S)


async def _close(consumer: AIOKafkaConsumer) -> None:
    """Stop the consumer. While the broker is down, aiokafka 0.14's Fetcher.close re-raises the CancelledError of a
    fetch that was backing off after a connection error, and skips closing the client: close it then."""
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # we are being cancelled ourselves
        await consumer._client.close()


async def _at_end(consumer: AIOKafkaConsumer) -> bool:
    """Whether every assigned partition has been read up to its high-water mark as of the last fetch.

    The high-water mark comes from fetch responses (consumer.highwater), not from end_offsets or seek_to_end,
    which Tansu gets wrong when several records share a batch (DESIGN.md section 5)."""
    partitions = consumer.assignment()
    if not partitions:
        return False
    for partition in partitions:
        highwater = consumer.highwater(partition)
        if highwater is None or await consumer.position(partition) < highwater:
            return False
    return True
