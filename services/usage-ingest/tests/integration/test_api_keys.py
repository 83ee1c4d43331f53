"""Ingest authenticates keys it learnt from gateway.api-keys.v1 (real broker), without any gateway running."""

import asyncio
import time
from datetime import UTC, datetime
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaProducer
from contracts.api_keys import ApiKeyIssued, ApiKeyRevoked, api_key_issued, api_key_revoked
from contracts.envelope import encode_event
from contracts.topics import API_KEYS, TopicSpec
from tally_cli.topics import create_topics
from tally_runtime.api_keys import hash_key, new_secret
from tally_runtime.ids import new_id
from tally_stack.testing import Infra, eventually, produce
from usage_ingest.keys.keyring import KeyRing

REVOCATION_DEADLINE_S = 5.0


def issued(key_id: str, secret: str, *scopes: str) -> tuple[bytes, bytes]:
    data = ApiKeyIssued(
        key_id=key_id,
        name="test",
        scopes=list(scopes),
        hash=hash_key(secret),
        hash_algorithm="sha256",
        issued_at=datetime.now(UTC),
    )
    return key_id.encode(), encode_event(api_key_issued(new_id("evt"), data, "tests"))


def revoked(key_id: str) -> tuple[bytes, bytes]:
    data = ApiKeyRevoked(key_id=key_id, revoked_at=datetime.now(UTC))
    return key_id.encode(), encode_event(api_key_revoked(new_id("evt"), data, "tests"))


async def post_event(ingest: httpx.AsyncClient, secret: str) -> httpx.Response:
    body = {"id": uuid4().hex, "customer_id": f"acme-{uuid4().hex[:6]}", "type": "api_call"}
    return await ingest.post("/v1/events", json=body, headers={"Authorization": f"Bearer {secret}"})


async def answers(ingest: httpx.AsyncClient, secret: str, status: int, seconds: float = 30.0) -> httpx.Response:
    async def check() -> httpx.Response:
        response = await post_event(ingest, secret)
        assert response.status_code == status, response.text
        return response

    return await eventually(check, seconds, interval=0.05)


async def issue_on_topic(infra: Infra, *scopes: str) -> tuple[str, str]:
    key_id, secret = new_id("key"), new_secret()
    await produce(infra.kafka_bootstrap, API_KEYS, [issued(key_id, secret, *scopes)])
    return key_id, secret


async def test_a_key_from_the_topic_is_accepted_and_a_revoked_one_refused_within_5s(
    ingest: httpx.AsyncClient, infra: Infra
) -> None:
    key_id, secret = await issue_on_topic(infra, "ingest")
    await answers(ingest, secret, 202)
    await produce(infra.kafka_bootstrap, API_KEYS, [revoked(key_id)])
    started = time.monotonic()
    refused = await answers(ingest, secret, 401, REVOCATION_DEADLINE_S)
    latency = time.monotonic() - started
    print(f"revocation took effect on ingest after {latency * 1000:.0f} ms")
    assert latency < REVOCATION_DEADLINE_S
    assert refused.headers["www-authenticate"] == 'Bearer realm="tally"'
    assert refused.headers["content-type"] == "application/problem+json"


async def test_a_key_without_the_ingest_scope_is_forbidden(ingest: httpx.AsyncClient, infra: Infra) -> None:
    _, secret = await issue_on_topic(infra, "read", "admin")
    forbidden = await answers(ingest, secret, 403)
    assert "ingest" in forbidden.json()["detail"]


async def test_unknown_and_missing_keys_are_401(ingest: httpx.AsyncClient) -> None:
    assert (await post_event(ingest, new_secret())).status_code == 401
    response = await ingest.post("/v1/events", json={}, headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="tally"'


async def test_the_bootstrap_key_still_works(ingest: httpx.AsyncClient, infra: Infra) -> None:
    assert (await post_event(ingest, infra.api_key)).status_code == 202


async def test_invalid_messages_are_skipped_and_the_next_key_works(ingest: httpx.AsyncClient, infra: Infra) -> None:
    key_id, secret = new_id("key"), new_secret()
    _, valid = issued(key_id, secret, "ingest")
    poison = valid.replace(b'"sha256"', b'"md5"')
    await produce(infra.kafka_bootstrap, API_KEYS, [(b"key_bad", b"{not json"), (b"key_bad", poison)])
    await produce(infra.kafka_bootstrap, API_KEYS, [(key_id.encode(), valid)])
    await answers(ingest, secret, 202)


async def test_readiness_includes_the_key_ring(ingest: httpx.AsyncClient) -> None:
    ready = await ingest.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == ["api_keys", "broker"]


async def test_a_new_ring_has_every_key_once_caught_up(infra: Infra) -> None:
    """Keys produced together share record batches, where Tansu's end offsets are wrong: the ring must still
    have every one of them the moment it reports it has caught up."""
    keys = {new_id("key"): new_secret() for _ in range(50)}
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, linger_ms=50, enable_idempotence=False)
    await producer.start()
    try:
        sent = [await producer.send(API_KEYS, value=issued(k, s, "ingest")[1], key=k.encode()) for k, s in keys.items()]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    ring = KeyRing(infra.kafka_bootstrap)
    await ring.start()
    try:
        await ring.wait_caught_up(30)
        assert all(ring.find(hash_key(secret)) is not None for secret in keys.values())
        await ring.ready()
    finally:
        await ring.stop()


async def test_a_ring_on_an_empty_topic_is_caught_up_at_once(infra: Infra) -> None:
    """A fresh installation: no key issued yet."""
    empty = f"test.api-keys.{uuid4().hex[:8]}"
    await create_topics(infra.kafka_bootstrap, [TopicSpec(empty, "key id", 1, None, True, (), (), ())])
    ring = KeyRing(infra.kafka_bootstrap, topic=empty)
    await ring.start()
    try:
        await ring.wait_caught_up(10)
        assert len(ring) == 0
    finally:
        await ring.stop()
