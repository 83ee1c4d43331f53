from gateway.access.known_keys import KnownKeys
from gateway.access.permissions import of_scopes
from gateway.access.principal import Principal

READER = Principal("key", "key_1", of_scopes(["read"]), "api_key")
WRITER = Principal("key", "key_2", of_scopes(["admin"]), "api_key")


def test_a_key_is_trusted_for_the_trust_period_only() -> None:
    known = KnownKeys(trust_s=1.0)
    known.remember("hash-1", "key_1", READER, now=100.0)
    assert known.get("hash-1", now=100.9) == READER
    assert known.get("hash-1", now=101.0) is None
    assert known.get("hash-1", now=100.5) is None  # gone once expired: the next use looks it up again


def test_an_unknown_hash_is_not_trusted() -> None:
    known = KnownKeys(trust_s=1.0)
    known.remember("hash-1", "key_1", READER, now=0.0)
    assert known.get("hash-2", now=0.0) is None


def test_a_revoked_key_is_forgotten_at_once() -> None:
    known = KnownKeys(trust_s=60.0)
    known.remember("hash-1", "key_1", READER, now=0.0)
    known.remember("hash-2", "key_2", WRITER, now=0.0)
    known.forget("key_1")
    assert known.get("hash-1", now=0.0) is None
    assert known.get("hash-2", now=0.0) == WRITER


def test_no_trust_period_remembers_nothing() -> None:
    known = KnownKeys(trust_s=0.0)
    known.remember("hash-1", "key_1", READER, now=0.0)
    assert known.get("hash-1", now=0.0) is None


def test_a_flood_of_keys_is_forgotten_not_grown() -> None:
    known = KnownKeys(trust_s=60.0, max_keys=2)
    for n in range(3):
        known.remember(f"hash-{n}", f"key_{n}", READER, now=0.0)
    assert [known.get(f"hash-{n}", now=0.0) for n in range(3)] == [None, None, READER]
