import gzip

import pytest
from tally_runtime.bodies import BodyTooLarge
from usage_ingest.events.body import BadEncoding, gunzip


def test_gunzip_within_the_limit() -> None:
    assert gunzip(gzip.compress(b"x" * 1000), 1000) == b"x" * 1000


def test_a_gzip_bomb_stops_at_the_limit() -> None:
    with pytest.raises(BodyTooLarge):
        gunzip(gzip.compress(b"\0" * 10_000_000), 1024 * 1024)


def test_corrupt_or_truncated_gzip_is_a_bad_encoding() -> None:
    with pytest.raises(BadEncoding):
        gunzip(b"not gzip at all", 1000)
    with pytest.raises(BadEncoding):
        gunzip(gzip.compress(b"y" * 5000)[:-12], 10_000)
