from tally_runtime.pages import split_page


def test_a_full_page_with_more_behind_it_names_its_last_row() -> None:
    assert split_page(["a", "b", "c"], 2, str.upper) == (["a", "b"], "B")


def test_the_last_page_has_no_cursor() -> None:
    assert split_page(["a", "b"], 2, str.upper) == (["a", "b"], None)
    assert split_page([], 2, str.upper) == ([], None)
