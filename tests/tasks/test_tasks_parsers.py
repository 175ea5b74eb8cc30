"""Answer parsers on realistic model outputs, including garbage (→ None) and hostile input."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from callscale.tasks.parsers import (
    MAX_EXPONENT,
    canonical_number,
    normalize_text,
    parse_choice,
    parse_exact,
    parse_number,
    parse_text,
    parse_yes_no,
)

FOUR = ["Sunlight is the source of energy.", "Most ecosystems are on land.", "Carbon dioxide is plentiful.", "Plants"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("B", "B"),
        ("b", "B"),
        (" B\n", "B"),
        ("(B)", "B"),
        ("[C]", "C"),
        ("D.", "D"),
        ("D)", "D"),
        ("**B**", "B"),
        ("Answer: B", "B"),
        ("Answer: (c)", "C"),
        ("answer:b", "B"),
        ("The answer is b.", "B"),
        ("The answer is B because sunlight drives photosynthesis.", "B"),
        ("The correct answer is option C.", "C"),
        ("The correct answer is (A) Sunlight is the source of energy.", "A"),
        ("I would choose D", "D"),
        ("Option A is correct.", "A"),
        ("Let me think. Plants make food from sunlight, so the answer is A.", "A"),
        ("Answer: A\n\nQuestion: Which gas do plants absorb?\nAnswer: C", "C"),
        ("C) Carbon dioxide is plentiful.", "C"),
        ("B. Most ecosystems are on land.", "B"),
        ("(A) because energy flows from the sun", "A"),
        ("A\nbecause energy flows from the sun", "A"),
        ("Sunlight is the source of energy.", "A"),
        ("sunlight is the source of energy", "A"),
        ("I think it's: Carbon dioxide is plentiful", "C"),
        ("Plants", "D"),
        ("They use sunlight, so I pick (A).", "A"),
    ],
)
def test_parse_choice_reads_many_forms(text: str, expected: str) -> None:
    assert parse_choice(text, FOUR) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\n",
        "I don't know.",
        "A or B, hard to say",
        "A dog is a mammal.",  # a sentence starting with the article "A"
        "The answer is a bit unclear to me",
        "E",  # beyond the four options
        "Answer: F",
        "(E)",
        "???",
        "<|im_end|>",
        "The question asks about photosynthesis and food webs.",
        "Options A, B, C and D are all plausible",
        "\x00\x01\x02",
        "Both (A) and (B) seem right",
    ],
)
def test_parse_choice_abstains_on_garbage(text: str) -> None:
    assert parse_choice(text, FOUR) is None


def test_parse_choice_with_a_count_and_many_options() -> None:
    assert parse_choice("J", 10) == "J"
    assert parse_choice("J", 4) is None
    assert parse_choice("Answer: I", 10) == "I"
    assert parse_choice("B", None) is None
    assert parse_choice("B", 0) is None
    assert parse_choice("B", []) is None


def test_parse_choice_echo_prefers_the_longer_nested_option() -> None:
    options = ["Paris", "Paris, Texas", "Rome"]
    assert parse_choice("It is Paris, Texas.", options) == "B"
    assert parse_choice("Paris", options) == "A"


def test_parse_choice_numeric_options_need_whole_words() -> None:
    options = ["4", "14", "40", "41"]
    assert parse_choice("14", options) == "B"
    assert parse_choice("The result is 40.", options) == "C"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18", "18"),
        ("The answer is 18.", "18"),
        ("Janet sells 16 - 3 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.\n#### 18", "18"),
        ("####18", "18"),
        ("#### 1,250", "1250"),
        ("She earns $1,250.00 in total.", "1250"),
        ("The total is $1,250.00, so the answer is 1250.", "1250"),
        ("The temperature drops to -7 degrees.", "-7"),
        ("Answer: \u22125", "-5"),
        ("It costs -$5 after the refund", "-5"),
        ("The answer is 3.50 dollars", "3.5"),
        ("So each gets 0.25 of the pie: 0.25", "0.25"),
        ("Half of it is 1/2", "0.5"),
        ("2 + 3 = 5\n10 - 2 = 8", "8"),
        ("He has 10-2 = 8 apples", "8"),
        ("Answer: 42\n\nThis is because 6 * 7 = 42 and 7 is prime", "42"),
        ("The final answer is: 1,000,000", "1000000"),
        ("\\boxed{72}", "72"),
        ("We get \\boxed{ 3,600 } in the end.", "3600"),
        ("It's 40%.", "40"),
        ("There are 3 apples and 4 pears, 7 fruits total.", "7"),
        ("5.", "5"),
        ("Answer = 12", "12"),
        ("The answer is 007", "7"),
        ("1/3 of 9 is 3, so 1/3", "1/3"),
    ],
)
def test_parse_number(text: str, expected: str) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "I don't know", "The answer is five.", "####", "N/A", "\\boxed{}", "...", "<|im_end|>", "x = y + z"],
)
def test_parse_number_abstains(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("answer: 1e3", "1000"),
        ("answer: 2.5e2", "250"),
        ("answer: 1E-3", "0.001"),
        ("answer: -4.2e+1", "-42"),
        ("answer: \u22124.2e\u22121", "-0.42"),
        ("answer: 1.5E+03 m", "1500"),
        ("answer: .5e1", "5"),
        ("answer: 1,000e3", "1000000"),
        ("answer: 0e5", "0"),
        ("The distance is 3e8 m/s.", "300000000"),
        ("#### 7e-2", "0.07"),
        ("\\boxed{1.25e2}", "125"),
        ("answer: 6.02×10^23", "602000000000000000000000"),
        ("answer: 6.02 x 10^23", "602000000000000000000000"),
        ("answer: 6.02 \\times 10^{23}", "602000000000000000000000"),
        ("answer: 3 * 10**-2", "0.03"),
        ("3 * 10^2 = 300", "300"),
        (f"answer: 1e{MAX_EXPONENT}", "1" + "0" * MAX_EXPONENT),
        (f"answer: 1e-{MAX_EXPONENT}", "0." + "0" * (MAX_EXPONENT - 1) + "1"),
    ],
)
def test_parse_number_scientific_notation(text: str, expected: str) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "answer: 1e999",
        "answer: 1e-999",
        "answer: -1e999",
        "answer: 0e999",  # the bound is on the written exponent, whatever the mantissa
        f"answer: 1e{MAX_EXPONENT + 1}",
        f"answer: 1e-{MAX_EXPONENT + 1}",
        "answer: 6.02×10^999",
        "answer: 1e" + "9" * 5000,
        "#### 1e999",
        "\\boxed{1e999}",
        "We had 5 apples and 3 pears.\nAnswer: 1e999",  # abstains rather than fall back to 3
        "5 apples, then 2e999",  # the last number is unreadable: no fallback to 5
        "answer: 1e3.5",  # a fractional exponent is not read as 1e3
        "We had 5 apples.\nAnswer: 1/0",  # any unreadable chosen number abstains the same way
    ],
)
def test_parse_number_abstains_on_unreadable_numbers(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I bought 3 eggs.", "3"),
        ("answer: 3 eggs", "3"),
        ("answer: 5e", "5"),
        ("5e", "5"),
        ("answer: 1e", "1"),
        ("1e", "1"),
        ("answer: 5e-", "5"),
        ("answer: 5E+", "5"),
        ("answer: 3.5e", "3.5"),
        ("I had 3 eggs and 5e", "5"),
        ("Route 66e", "66"),
        ("He came the 2nd", "2"),
        ("answer: 5 eggs, 1e3 grams", "5"),
        ("answer: 0xff", "0"),  # hex is not a number here; its "0" is read as before
        ("answer: 0x1e3", "0"),  # ...and never as 1e3
        ("x1e3", None),  # "1e3" inside a word is not a number
        ("e5", None),
        ("On 2024-01-15 we met", "15"),
        ("answer: 2024-01-15", "2024"),
        ("12/25/2024", "2024"),
        ("answer: 2e3 / 4", "2000"),
        ("5 x 10 = 50", "50"),  # "x 10" without a power is not scientific notation
        ("E=mc^2 with m=2", "2"),
    ],
)
def test_parse_number_letter_e_in_prose(text: str, expected: str | None) -> None:
    assert parse_number(text) == expected


def test_parse_number_scientific_property() -> None:
    """For random integers n and exponents e, "n e e" parses to the exact Decimal value."""
    rng = random.Random(20240611)
    for _ in range(2000):
        n = rng.choice([0, rng.randint(-9, 9), rng.randint(-(10**12), 10**12)])
        e = rng.randint(-40, 40)
        marker = rng.choice(["e", "E"])
        sign = "+" if e >= 0 and rng.random() < 0.5 else ""
        exact = Decimal(f"{n}e{e}")
        expected = canonical_number(Fraction(exact))
        got = parse_number(f"answer: {n}{marker}{sign}{e}")
        assert got == expected, (n, e)
        assert got is not None and Decimal(got) == exact
        assert canonical_number(f"{n}e{e}") == expected


def test_parse_number_scientific_property_decimal_mantissa() -> None:
    """Mantissas with fractional digits are exact too (no float rounding)."""
    rng = random.Random(7)
    for _ in range(1000):
        mantissa = f"{rng.randint(-999, 999)}.{rng.randint(0, 10**9):09d}"
        e = rng.randint(-MAX_EXPONENT, MAX_EXPONENT)
        got = parse_number(f"The result is {mantissa}e{e}")
        assert got is not None and Fraction(Decimal(got)) == Fraction(Decimal(f"{mantissa}e{e}")), (mantissa, e)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,234", "1234"),
        ("$1,234.50", "1234.5"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("18.00", "18"),
        ("007", "7"),
        ("6/4", "1.5"),
        ("2/3", "2/3"),
        ("1/0", None),
        ("abc", None),
        ("", None),
        ("5.", "5"),
        (12, "12"),
        (0.5, "0.5"),
        (True, None),
        ("\u22123", "-3"),
        ("1e3", "1000"),
        ("2.5e2", "250"),
        ("1E-3", "0.001"),
        ("-4.2e+1", "-42"),
        ("6.02×10^23", "602000000000000000000000"),
        ("1e999", None),
        ("1e-999", None),
        ("1e", None),
        ("e3", None),
        ("1e3.5", None),
        (1e16, "10000000000000000"),
        (1e-5, "0.00001"),
        (1e300, None),  # str(1e300) == "1e+300": beyond MAX_EXPONENT
        (float("inf"), None),
        (Decimal("2.5E+2"), "250"),
        (Decimal("1E+999"), None),
        (Decimal("NaN"), None),
    ],
)
def test_canonical_number(value: str | int | float | Decimal, expected: str | None) -> None:
    assert canonical_number(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower", "eiffel tower"),
        ("  an   apple ", "apple"),
        ("Hello, World!", "hello world"),
        ("U.S.A.", "usa"),
        ("Théâtre", "théâtre"),
        ("", ""),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Paris", "paris"),
        ("The answer is Paris.", "paris"),
        ("Let me think.\nAnswer: Barack Obama.", "barack obama"),
        ("\n\n  The Beatles!\nThey were a band.", "beatles"),
        ("...", None),
        ("", None),
        ("Answer:", "answer"),
    ],
)
def test_parse_exact(text: str, expected: str | None) -> None:
    assert parse_exact(text) == expected


def test_parse_text_keeps_everything() -> None:
    assert parse_text("Pat Burrell: Right\nJD Drew: Left") == "pat burrell right jd drew left"
    assert parse_text("  !! ") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", "yes"),
        ("yes.", "yes"),
        ("No, it is not.", "no"),
        ("NO", "no"),
        ("Answer: True", "yes"),
        ("false", "no"),
        ("The passage says so. Answer: no", "no"),
        ("I think yes, but the answer is no.", "no"),
        ("Correct.", "yes"),
        ("maybe", None),
        ("", None),
        ("Nobody knows", None),
        ("yesterday", None),
    ],
)
def test_parse_yes_no(text: str, expected: str | None) -> None:
    assert parse_yes_no(text) == expected


@pytest.mark.parametrize("parser", [parse_choice, parse_number, parse_exact, parse_text, parse_yes_no])
@pytest.mark.parametrize("junk", ["\ud800", "(" * 10_000, "9" * 5000, "#### " + "1," * 3000, "\x00" * 100])
def test_parsers_never_raise(parser, junk: str) -> None:  # type: ignore[no-untyped-def]
    result = parser(junk, FOUR)
    assert result is None or isinstance(result, str)
