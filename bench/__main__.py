"""`make bench`: measure, then print one table with figures and ratios against a baseline from the same run."""

import argparse
import asyncio

from bench.latency import ingest_to_visible, kafka_round_trip, percentile
from bench.stack import running_stack


def row(name: str, samples: list[float], baseline: list[float] | None) -> str:
    p50, p99 = percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000
    ratio = f"{p50 / (percentile(baseline, 0.5) * 1000):.1f}x" if baseline else "1.0x"
    return f"| {name:<44} | {len(samples):>7} | {p50:>8.1f} | {p99:>8.1f} | {ratio:>11} |"


async def measure(samples: int) -> None:
    with running_stack() as stack:
        baseline = await kafka_round_trip(stack, samples)
        latency = await ingest_to_visible(stack, samples)
    print("| benchmark                                    | samples | p50 (ms) | p99 (ms) | p50 vs base |")
    print("|----------------------------------------------|---------|----------|----------|-------------|")
    print(row("baseline: Kafka produce -> consume", baseline, None))
    print(row("ingest POST -> usage visible on gateway", latency, baseline))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--samples", type=int, default=200)
    asyncio.run(measure(parser.parse_args().samples))


if __name__ == "__main__":
    main()
