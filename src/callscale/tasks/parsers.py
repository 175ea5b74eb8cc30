"""Answer parsers: completion text → canonical answer string, or ``None`` to abstain.

Every parser has the signature ``parser(text, choices=None) -> str | None`` and never raises:
an answer that cannot be read is a value (an abstention), not an error. ``choices`` are the
options *as shown to the model* (only :func:`parse_choice` uses them).

Canonical forms:

- multiple choice: the option letter, upper case (``"B"``);
- numbers: the shortest exact decimal (``"1234"``, ``"-0.5"``, ``"18"`` for ``"$18.00"``);
- free text: :func:`normalize_text` (lower case, no punctuation, no articles, single spaces);
- yes/no: ``"yes"`` or ``"no"``.

Example:
    >>> parse_choice("The answer is (b).", ["red", "blue", "green"])
    'B'
    >>> parse_number("She pays 3 * $4 = $12.\\n#### 12")
    '12'
    >>> parse_exact("The answer is: The Eiffel Tower!")
    'eiffel tower'
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction

LETTERS = string.ascii_uppercase

AnswerParser = Callable[[str, Sequence[str] | None], str | None]
"""``(completion text, displayed choices or None) -> canonical answer or None``."""

__all__ = [
    "LETTERS",
    "MAX_EXPONENT",
    "AnswerParser",
    "canonical_number",
    "normalize_text",
    "parse_choice",
    "parse_exact",
    "parse_number",
    "parse_text",
    "parse_yes_no",
]

# ---------------------------------------------------------------------------------------------
# free text

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_WS = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, collapse whitespace (SQuAD style).

    Example:
        >>> normalize_text("  The  Eiffel-Tower, Paris! ")
        'eiffeltower paris'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    text = _ARTICLES.sub(" ", text)
    return _WS.sub(" ", text).strip()


_ANSWER_LABEL = re.compile(
    r"(?:final\s+answer|correct\s+answer|answer)\s*(?:is|was|would\s+be|will\s+be|[:=])\s*:?",
    re.IGNORECASE,
)


def _after_last_marker(text: str) -> str | None:
    """The text after the last 'answer is' / 'Answer:' marker, or None if there is none."""
    last = None
    for match in _ANSWER_LABEL.finditer(text):
        last = match
    return None if last is None else text[last.end() :]


def parse_exact(text: str, choices: Sequence[str] | None = None) -> str | None:
    """The answer phrase of ``text``, normalised for exact match; ``None`` if nothing is left.

    The phrase is the line after the last "answer is"/"Answer:" marker if there is one, otherwise
    the first non-empty line. ``choices`` is ignored (uniform parser signature).

    Example:
        >>> parse_exact("Let me think.\\nAnswer: Barack Obama.")
        'barack obama'
        >>> parse_exact("...") is None
        True
    """
    try:
        tail = _after_last_marker(text)
        source = tail if tail is not None and tail.strip() else text
        for line in source.splitlines():
            normalized = normalize_text(line)
            if normalized:
                return normalized
        return None
    except Exception:
        return None


def parse_text(text: str, choices: Sequence[str] | None = None) -> str | None:
    """The whole reply, normalised (for long or list-like answers); ``None`` if nothing is left.

    ``choices`` is ignored (uniform parser signature).

    Example:
        >>> parse_text("Right-handed;\\n  Left-handed.")
        'righthanded lefthanded'
    """
    try:
        return normalize_text(text) or None
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# yes / no

_YES_NO = re.compile(r"\b(yes|no|true|false|correct|incorrect)\b", re.IGNORECASE)
_YES_WORDS = {"yes", "true", "correct"}


def parse_yes_no(text: str, choices: Sequence[str] | None = None) -> str | None:
    """``"yes"`` or ``"no"``: the first yes/no/true/false word after an answer marker, else in the text.

    ``choices`` is ignored (uniform parser signature).

    Example:
        >>> parse_yes_no("No, it is not.")
        'no'
        >>> parse_yes_no("Answer: True"), parse_yes_no("maybe") is None
        ('yes', True)
    """
    try:
        tail = _after_last_marker(text)
        for source in ([tail] if tail is not None else []) + [text]:
            match = _YES_NO.search(source)
            if match:
                return "yes" if match.group(1).lower() in _YES_WORDS else "no"
        return None
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# numbers

_MINUS = "-\u2212\u2013"  # hyphen-minus, minus sign, en dash
MAX_EXPONENT = 100
"""Largest ``|k|`` read in scientific notation ``m e k`` / ``m × 10^k``; beyond it a number abstains."""

_TIMES_TEN = r"(?:[×x*·]|\\times|\\cdot)[ \t]*10[ \t]*(?:\^|\*\*)[ \t]*"  # "× 10^", "\times 10^", "*10**"
_NUMBER = re.compile(
    rf"(?<![\w.])(?P<sign>[{_MINUS}])?\s?\$?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:"
    # scientific notation; a fractional exponent ("1e3.5") is captured whole so that it abstains
    rf"[eE](?P<exp>[{_MINUS}+]?\d+(?:\.\d+)?)"
    rf"|[ \t]*{_TIMES_TEN}\{{?(?P<pow>[{_MINUS}+]?\d+)\}}?"
    # otherwise an optional "/ denominator"; never stop just before "e<digits>"
    rf"|(?![eE][{_MINUS}+]?\d)(?:\s*/\s*(?P<den>\d+)(?![\d.]))?"
    r")"
    r"(?![\d])"
)
_DECIMAL = re.compile(rf"(?P<mantissa>[-+]?(?:\d+(?:\.\d*)?|\.\d+))(?:(?:[eE]|{_TIMES_TEN}\{{?)(?P<exp>[-+]?\d+)\}}?)?")
_HASHES = re.compile(r"####")
_BOXED = re.compile(r"\\boxed\s*\{")


def canonical_number(value: str | int | float | Decimal | Fraction) -> str | None:
    """The canonical string of a number: no commas or ``$``, no trailing zeros, ``-0`` → ``0``.

    Fractions become exact decimals when they terminate, else ``"p/q"`` in lowest terms.
    Scientific notation (``"2.5e2"``, ``"6.02×10^23"``; floats and Decimals as ``str`` writes
    them) is expanded exactly, never through float rounding. Returns ``None`` for anything that
    is not a single number, and for an exponent beyond ``±MAX_EXPONENT`` (``"1e999"``).

    Example:
        >>> canonical_number("$1,234.50"), canonical_number("-0.0"), canonical_number("6/4")
        ('1234.5', '0', '1.5')
        >>> canonical_number("2.5e2"), canonical_number("1E-3"), canonical_number("1e999") is None
        ('250', '0.001', True)
    """
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, Fraction):
            frac: Fraction | None = value
        elif isinstance(value, int):
            frac = Fraction(value)
        elif isinstance(value, float | Decimal):
            frac = _decimal_fraction(str(value))
        else:
            s = value.strip().replace(",", "").replace("$", "").replace("\u2212", "-").replace(" ", "")
            s = s.rstrip(".") if s.count(".") == 1 and s.endswith(".") else s
            if re.fullmatch(r"[-+]?\d+/\d+", s):
                num, den = s.split("/")
                if int(den) == 0:
                    return None
                frac = Fraction(int(num), int(den))
            else:
                frac = _decimal_fraction(s)
        return None if frac is None else _format_fraction(frac)
    except (ValueError, InvalidOperation, ZeroDivisionError, OverflowError):
        return None


def _decimal_fraction(s: str) -> Fraction | None:
    """The exact value of a decimal, possibly in scientific notation; ``None`` if it is not one.

    ``None`` too when the exponent is beyond ``±MAX_EXPONENT``: such a value has no sensible
    canonical decimal string, and reading only its mantissa would be wrong.

    Example:
        >>> _decimal_fraction("-4.2e+1"), _decimal_fraction("6.02×10^2"), _decimal_fraction(".5")
        (Fraction(-42, 1), Fraction(602, 1), Fraction(1, 2))
        >>> _decimal_fraction("1e-101") is None, _decimal_fraction("1e") is None
        (True, True)
    """
    match = _DECIMAL.fullmatch(s)
    if match is None:
        return None
    exponent = int(match["exp"] or 0)
    if abs(exponent) > MAX_EXPONENT:
        return None
    return Fraction(Decimal(match["mantissa"])) * Fraction(10) ** exponent


def _format_fraction(frac: Fraction) -> str:
    if frac.denominator == 1:
        return str(frac.numerator)
    den = frac.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den != 1:
        return f"{frac.numerator}/{frac.denominator}"
    digits = 0
    scaled = frac
    while scaled.denominator != 1:
        scaled *= 10
        digits += 1
    sign = "-" if scaled.numerator < 0 else ""
    magnitude = str(abs(scaled.numerator)).rjust(digits + 1, "0")
    return f"{sign}{magnitude[:-digits]}.{magnitude[-digits:]}"


def _numbers(text: str) -> list[str | None]:
    """Every number in ``text``, canonical, in order; ``None`` marks one that cannot be read.

    An unreadable number (``1e999``, ``1/0``) keeps its place, so that a parser choosing it
    abstains instead of falling back to some other number.

    Example:
        >>> _numbers("3 eggs, 2.5e2 g, -4.2E+1, 1e999 and 5e")
        ['3', '250', '-42', None, '5']
    """
    out: list[str | None] = []
    for match in _NUMBER.finditer(text):
        sign = "-" if match["sign"] else ""
        num = match["num"].replace(",", "")
        exp = match["exp"] or match["pow"]
        if exp is not None:
            exp = re.sub(f"[{_MINUS}]", "-", exp)
            out.append(canonical_number(f"{sign}{num}e{exp}"))
        elif match["den"]:
            out.append(canonical_number(f"{sign}{num}/{match['den']}"))
        else:
            out.append(canonical_number(f"{sign}{num}"))
    return out


def parse_number(text: str, choices: Sequence[str] | None = None) -> str | None:
    """The final numeric answer of ``text``, GSM8K style, as a canonical number string.

    Looks, in order, after the last ``####``, inside the last ``\\boxed{…}``, after the last
    "answer is"/"Answer:" marker (first number there), and otherwise takes the last number in the
    text. Handles thousands commas, ``$``, negatives, decimals, simple fractions and scientific
    notation (``1e3``, ``-4.2E+1``, ``6.02×10^23``, exactly). If the number so chosen cannot be
    read (an exponent beyond ``±MAX_EXPONENT``, a zero denominator) the parser abstains. An
    ``e`` not followed by digits is just a letter (``"5e"``, ``"3 eggs"``). ``choices`` is
    ignored (uniform parser signature).

    Example:
        >>> parse_number("The total is $1,250.00, so the answer is 1250.")
        '1250'
        >>> parse_number("It drops by 7 degrees: the answer is -7"), parse_number("no idea") is None
        ('-7', True)
        >>> parse_number("answer: 2.5e2"), parse_number("answer: 1E-3"), parse_number("answer: 1e999") is None
        ('250', '0.001', True)
    """
    try:
        for pattern in (_HASHES, _BOXED):
            matches = list(pattern.finditer(text))
            if matches:
                found = _numbers(text[matches[-1].end() :])
                if found:
                    return found[0]
        tail = _after_last_marker(text)
        if tail is not None:
            found = _numbers(tail)
            if found:
                return found[0]
        found = _numbers(text)
        return found[-1] if found else None
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# multiple choice


def _letter_set(choices: Sequence[str] | int) -> str:
    n = choices if isinstance(choices, int) else len(choices)
    return LETTERS[: max(0, min(n, len(LETTERS)))]


def _strip_wrappers(s: str) -> str:
    return s.strip().strip("*_`'\" \t").strip()


def parse_choice(text: str, choices: Sequence[str] | int | None = None) -> str | None:
    """The option letter a completion picks, in the order shown; ``None`` when it is unclear.

    ``choices`` are the displayed option texts (or just their number). Accepts a bare letter
    ("B", "(B)", "b."), an answer marker ("Answer: B", "The correct answer is option C"), a
    leading letter ("C) Paris is …"), or the text of exactly one option echoed back. Letters
    beyond the number of options are ignored.

    Example:
        >>> parse_choice("Answer: (C)", 4), parse_choice("I think it's Paris.", ["Rome", "Paris"])
        ('C', 'B')
        >>> parse_choice("A or B, hard to say", 4) is None
        True
    """
    try:
        if choices is None:
            return None
        letters = _letter_set(choices)
        if not letters:
            return None
        options = list(choices) if not isinstance(choices, int) else []
        return _parse_choice(text, letters, options)
    except Exception:
        return None


_EDGE = " \t\r\n.,;:!?\"'*_`()[]"


def _loose(text: str) -> str:
    """Light normalisation for matching option texts: keeps signs and inner punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(f"[{_MINUS}]", "-", text)
    return _WS.sub(" ", text).strip(_EDGE)


def _echoed(body: str, options: list[str], *, at_start: bool = False) -> int | None:
    """Index of the single option whose text appears in ``body`` (or starts it), else None."""
    loose_body = _loose(body)
    loose_options = [_loose(o) for o in options]
    hits = []
    for i, option in enumerate(loose_options):
        if not option:
            continue
        pattern = rf"{re.escape(option)}(?!\w|[.,]\d)"
        found = re.match(pattern, loose_body) if at_start else re.search(rf"(?<![\w-]){pattern}", loose_body)
        if found:
            hits.append(i)
    # an option contained in a longer echoed option is not a separate hit ("Paris" in "Paris, Texas")
    hits = [
        i for i in hits if not any(loose_options[i] != loose_options[j] and loose_options[i] in loose_options[j] for j in hits)
    ]
    return hits[0] if len(hits) == 1 else None


def _parse_choice(text: str, letters: str, options: list[str]) -> str | None:
    body = _strip_wrappers(text)
    if not body:
        return None
    lo, hi = letters[0], letters[-1]
    upper = f"[{lo}-{hi}]"
    anycase = f"[{lo}-{hi}{lo.lower()}-{hi.lower()}]"

    # 1. the whole reply is a letter: "B", "(b)", "[C].", "D)"
    m = re.fullmatch(rf"[(\[]?\s*({anycase})\s*[)\]]?\s*[.:)]?", body)
    if m:
        return m.group(1).upper()

    # 2. an explicit marker: "answer is B", "Answer: (c)", "option D", "choice (A)"
    marker = re.compile(
        r"(?i:answer|option|choice|choose|pick|select|go\s+with)\s*"
        r"(?i:is|would\s+be|will\s+be|[:=\-])?\s*(?i:option|choice|letter)?\s*:?\s*"
        rf"(?:\(({anycase})\)|\[({anycase})\]|({upper})(?![\w'])|({anycase})(?=[.):,;]|\s*$))"
    )
    matches = list(marker.finditer(body))
    if matches:
        last = matches[-1]
        bare = last.group(3)
        if bare in ("A", "I") and options and re.match(r"\s+\w", body[last.end(3) :]):
            # "The answer is A nurse checks…": the article/pronoun may begin an echoed option
            echoed = _echoed(body[last.start(3) :], options, at_start=True)
            if echoed is not None:
                return letters[echoed]
        return next(g for g in last.groups() if g).upper()

    # 3. the reply is exactly one option's text (possibly with punctuation)
    if options:
        for norm in (_loose, normalize_text):
            normalized_body = norm(body)
            exact = [i for i, o in enumerate(options) if normalized_body and norm(o) == normalized_body]
            if len(exact) == 1:
                return letters[exact[0]]
            if exact:
                return None  # duplicate options: genuinely ambiguous

    # 4. a leading letter with punctuation: "C) Paris", "B. because", "(A) the first"
    m = re.match(rf"[(\[]?\s*({anycase})\s*(?:[)\]]\s*[.:]?|[.:])(?:\s|$)", body)
    if m:
        return m.group(1).upper()
    m = re.match(rf"({upper})\s*(?:\n|$)", body)
    if m:
        return m.group(1)

    # 5. exactly one distinct parenthesised letter anywhere: "... so (B) ..."
    paren = {g.upper() for g in re.findall(rf"\(({anycase})\)", body)}
    if len(paren) == 1:
        return paren.pop()

    # 6. exactly one option's text echoed somewhere in the reply
    if options:
        echoed = _echoed(body, options)
        if echoed is not None:
            return letters[echoed]
    return None
