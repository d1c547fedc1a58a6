import pytest

from promgate.scoring.extraction import extract_gsm8k, last_boxed, normalize_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She pays 5 + 3 = 8 dollars.\n#### 8", "8"),
        ("#### 1,000", "1000"),
        ("The answer is $18.00.", "18"),
        ("so -3 degrees", "-3"),
        ("first 4 then 12 and finally 7.5", "7.5"),
        ("#### 42 apples, not 7", "42"),
        ("no digits here", None),
    ],
)
def test_extract_gsm8k(text, expected):
    assert extract_gsm8k(text) == expected


def test_normalize_number_rejects_words():
    assert normalize_number("twelve") is None
    assert normalize_number("3.0") == "3"


def test_last_boxed_handles_nesting():
    assert last_boxed(r"so \boxed{1} or rather \boxed{\frac{1}{2}}") == r"\frac{1}{2}"
    assert last_boxed("no box") is None
