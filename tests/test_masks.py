"""The mask rule, in-process: whole values only, nothing short from an answer."""

from __future__ import annotations

from xbearer import masks


def test_a_token_is_masked_whole_and_percent_decoded_whole() -> None:
    token = "AAAAAAAAAAAAAAAAAAAAAMLRFgEAAAAA%2BbcDEF%3DghIJ"
    assert masks.answered(token) == {token, "AAAAAAAAAAAAAAAAAAAAAMLRFgEAAAAA+bcDEF=ghIJ"}


def test_an_encoded_line_break_never_yields_a_fragment_mask() -> None:
    assert masks.answered("AAAAAAAAAAAAAAAAAAAA%0Ae") == {"AAAAAAAAAAAAAAAAAAAA%0Ae"}
    assert masks.answered("AAAAAAAAAAAAAAAAAAAA%0D%0Ae") == {"AAAAAAAAAAAAAAAAAAAA%0D%0Ae"}


def test_no_mask_from_an_answer_is_shorter_than_eight_characters() -> None:
    assert masks.answered("%41%42%43%44%45%46%47") == {"%41%42%43%44%45%46%47"}  # ABCDEFG
    assert masks.answered("short") == set()


def test_a_multi_line_secret_input_is_masked_line_by_line_as_the_runner_does() -> None:
    assert masks.given(" key\nsecret-line\n") == {
        " key\nsecret-line\n",
        "key\nsecret-line",
        " key",
        "secret-line",
    }
