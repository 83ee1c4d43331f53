from aiokafka.partitioner import murmur2
from usage_ingest.events.partitions import partition_of

SIX = (0, 1, 2, 3, 4, 5)


def test_a_customer_goes_where_murmur2_of_its_id_points() -> None:
    for customer in ("acme-42", "globex", "été-7", "x" * 255):
        assert partition_of(customer, SIX) == (murmur2(customer.encode()) & 0x7FFFFFFF) % 6


def test_customers_spread_over_every_partition() -> None:
    assert {partition_of(f"customer-{n}", SIX) for n in range(100)} == set(SIX)
