"""Pure: the partition of usage.events.v1 a customer's events belong on, the one Kafka's default partitioner picks
for the customer id as key (murmur2, as aiokafka and the Java client hash keys). Ingest's records and a direct
producer's records keyed by the customer id land on the same partition, so each customer's events stay in order."""

from functools import lru_cache

from aiokafka.partitioner import DefaultPartitioner

_DEFAULT = DefaultPartitioner()


@lru_cache(maxsize=65_536)  # murmur2 is pure Python (about 8 us a key); a busy product repeats its customers
def partition_of(customer_id: str, partitions: tuple[int, ...]) -> int:
    """`partitions`: the topic's partition ids, sorted (as the producer passes them to its partitioner)."""
    partition: int = _DEFAULT(customer_id.encode(), list(partitions), [])
    return partition
