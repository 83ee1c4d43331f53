import pytest
from analytics.usage.correlation import MIN_SAMPLE, spearman


def test_no_claim_below_the_minimum_sample() -> None:
    result = spearman(list(range(29)), list(range(29)))
    assert (result.n, result.rho, result.p_value) == (29, None, None)
    assert result.reason is not None and "29 < 30" in result.reason
    assert MIN_SAMPLE == 30


def test_no_claim_when_an_outcome_never_varies() -> None:
    result = spearman(list(range(40)), [1] * 40)
    assert result.rho is None and result.reason is not None and "outcome" in result.reason


def test_rho_is_the_rank_correlation() -> None:
    xs = list(range(30))
    # a monotonic but non-linear outcome: ranks agree perfectly
    assert spearman(xs, [x**3 for x in xs]).rho == 1.0
    assert spearman(xs, [-x for x in xs]).rho == -1.0
    # swap two neighbours in the ranks: rho = 1 - 6 * sum d^2 / (n (n^2 - 1)) = 1 - 6*2 / (30 * 899)
    ys = list(range(30))
    ys[0], ys[1] = ys[1], ys[0]
    result = spearman(xs, ys)
    assert result.rho == pytest.approx(1 - 12 / (30 * 899), abs=1e-4)
    assert result.p_value is not None and result.p_value < 0.001
    assert result.reason is None
