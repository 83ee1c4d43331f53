import json
from pathlib import Path

import contracts
import pytest
from analytics.projections.decoding import Ignored, decode_billing
from contracts.envelope import ContractError

EXAMPLES = Path(contracts.__file__).parent / "examples"


@pytest.mark.parametrize(
    "name", ["tally.subscription.updated", "tally.invoice.paid", "tally.payment.failed", "tally.customer.created"]
)
def test_projected_examples_decode(name: str) -> None:
    raw = (EXAMPLES / f"{name}.json").read_bytes()
    assert decode_billing(raw).type == name


def test_other_types_are_ignored_and_broken_ones_rejected() -> None:
    assert decode_billing((EXAMPLES / "tally.meter.created.json").read_bytes()) == Ignored("tally.meter.created")
    with pytest.raises(ContractError):
        decode_billing(b"{not json")
    broken = json.loads((EXAMPLES / "tally.invoice.paid.json").read_bytes())
    del broken["data"]["currency"]
    with pytest.raises(ContractError, match="currency"):
        decode_billing(json.dumps(broken).encode())
