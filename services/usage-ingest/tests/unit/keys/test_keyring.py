"""The key ring's state machine, record by record (no broker)."""

from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord
from contracts.api_keys import ApiKeyIssued, ApiKeyRevoked, api_key_issued, api_key_revoked
from contracts.envelope import encode_event
from contracts.topics import API_KEYS
from tally_runtime.api_keys import hash_key, new_secret
from usage_ingest.keys.keyring import KeyRing

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def record(key: str, value: bytes | None) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(API_KEYS, 0, 0, 0, 0, key.encode(), value, None, len(key), len(value or b""), [])


def issued(key_id: str, secret: str, *scopes: str) -> ConsumerRecord[bytes, bytes]:
    data = ApiKeyIssued(
        key_id=key_id, name="k", scopes=list(scopes), hash=hash_key(secret), hash_algorithm="sha256", issued_at=T0
    )
    return record(key_id, encode_event(api_key_issued(f"evt_{key_id}", data, "tests")))


def revoked(key_id: str) -> ConsumerRecord[bytes, bytes]:
    return record(
        key_id, encode_event(api_key_revoked(f"evt_r{key_id}", ApiKeyRevoked(key_id=key_id, revoked_at=T0), "t"))
    )


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing("127.0.0.1:1")


def test_issued_keys_are_found_by_hash_with_their_scopes(ring: KeyRing) -> None:
    secret = new_secret()
    ring.apply(issued("key_1", secret, "ingest", "read"))
    grant = ring.find(hash_key(secret))
    assert grant is not None
    assert (grant.key_id, grant.scopes) == ("key_1", frozenset({"ingest", "read"}))
    assert ring.find(hash_key(new_secret())) is None


def test_a_revoked_key_is_gone_and_stays_gone(ring: KeyRing) -> None:
    secret, other = new_secret(), new_secret()
    ring.apply_all([issued("key_1", secret, "ingest"), issued("key_2", other, "ingest"), revoked("key_1")])
    assert ring.find(hash_key(secret)) is None
    ring.apply(issued("key_1", secret, "ingest"))  # a late duplicate of the issue does not bring it back
    assert ring.find(hash_key(secret)) is None
    assert ring.find(hash_key(other)) is not None
    assert len(ring) == 1


def test_a_revocation_of_an_unknown_key_is_harmless(ring: KeyRing) -> None:
    ring.apply(revoked("key_neverseen"))  # compaction may leave only the revocation
    assert len(ring) == 0


def test_a_reissued_id_replaces_its_old_hash(ring: KeyRing) -> None:
    first, second = new_secret(), new_secret()
    ring.apply_all([issued("key_1", first, "read"), issued("key_1", second, "ingest")])
    assert ring.find(hash_key(first)) is None
    grant = ring.find(hash_key(second))
    assert grant is not None
    assert grant.scopes == frozenset({"ingest"})


def test_a_tombstone_forgets_the_key(ring: KeyRing) -> None:
    secret = new_secret()
    ring.apply_all([issued("key_1", secret, "ingest"), record("key_1", None)])
    assert ring.find(hash_key(secret)) is None


@pytest.mark.parametrize(
    "value",
    [b"{not json", b'{"specversion": "1.0"}', b'{"type": "tally.api_key.rotated"}', b"[]", b""],
)
def test_invalid_messages_are_skipped(ring: KeyRing, value: bytes, caplog: pytest.LogCaptureFixture) -> None:
    secret = new_secret()
    ring.apply_all([record("key_bad", value), issued("key_1", secret, "ingest")])
    assert ring.find(hash_key(secret)) is not None
    assert "invalid message on the key topic skipped" in caplog.text


async def test_not_ready_before_it_has_read_the_topic(ring: KeyRing) -> None:
    assert not ring.caught_up
    with pytest.raises(RuntimeError, match="still loading"):
        await ring.ready()
