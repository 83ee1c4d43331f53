from analytics.segments.rfm import RULES, SEGMENTS, Activity, quintile_cuts, score, segment_of


def test_quintile_cuts_are_nearest_rank() -> None:
    assert quintile_cuts([90, 1, 40, 3, 10]) == [1, 3, 10, 40]
    # n = 10: ranks ceil(10k/5) = 2, 4, 6, 8
    assert quintile_cuts(list(range(10, 0, -1))) == [2, 4, 6, 8]
    assert quintile_cuts([]) == []


def test_scores_and_segments_by_hand() -> None:
    customers = [
        Activity("A", recency_days=1, frequency=20, monetary_minor=5000),
        Activity("B", recency_days=3, frequency=10, monetary_minor=3000),
        Activity("C", recency_days=10, frequency=5, monetary_minor=1000),
        Activity("D", recency_days=40, frequency=8, monetary_minor=4000),
        Activity("E", recency_days=90, frequency=1, monetary_minor=0),
    ]
    cuts, scored = score(customers)
    assert cuts.recency_days == [1, 3, 10, 40]
    assert cuts.frequency == [1, 5, 8, 10]
    assert cuts.monetary_minor == [0, 1000, 3000, 4000]
    by_id = {s.activity.customer_id: s for s in scored}
    assert [(by_id[c].r, by_id[c].f, by_id[c].m, by_id[c].fm) for c in "ABCDE"] == [
        (5, 5, 5, 5),
        (4, 4, 3, 4),  # FM = (4 + 3) / 2 = 3.5, half up
        (3, 2, 2, 2),
        (2, 3, 4, 4),
        (1, 1, 1, 1),
    ]
    assert [by_id[c].segment for c in "ABCDE"] == [
        "Champions",
        "Champions",
        "Potential loyalists",
        "At risk",
        "Hibernating",
    ]


def test_every_score_pair_has_exactly_the_first_matching_segment() -> None:
    assert segment_of(1, 5) == "Can't lose them"
    assert segment_of(2, 5) == "At risk"
    assert segment_of(3, 5) == "Loyal"
    assert segment_of(5, 3) == "Loyal"
    assert segment_of(5, 2) == "Potential loyalists"
    assert segment_of(2, 2) == "Hibernating"
    named = {segment_of(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert named == set(SEGMENTS) == {rule[0] for rule in RULES}
