"""Language-neutral normalisation of amounts and numbers.

``3,320億ドル``, ``3320億ドル`` and ``$332 billion`` all become the token
``usd:332000000000`` (``120億円`` and ``¥12 billion``: ``jpy:12000000000``; euros and pounds
alike); ``10%`` becomes ``pct:10``; other digits become ``num:N``.
Eval scoring, the corpus alignment test and lexical retrieval share this.
"""

from __future__ import annotations

import re
import unicodedata

# currency names and symbols, and the token prefix each amount gets
_CURRENCIES = {"ドル": "usd", "円": "jpy", "ユーロ": "eur", "ポンド": "gbp", "$": "usd", "¥": "jpy", "€": "eur",
               "£": "gbp", "dollar": "usd", "dollars": "usd", "yen": "jpy", "euro": "eur", "euros": "eur",
               "pound": "gbp", "pounds": "gbp"}
MONEY_PREFIXES = tuple(sorted({f"{code}:" for code in _CURRENCIES.values()}))
_JA_MONEY = re.compile(
    r"(?:(?P<cho>\d[\d,]*(?:\.\d+)?)兆)?(?:(?P<oku>\d[\d,]*(?:\.\d+)?)億)?(?:(?P<man>\d[\d,]*(?:\.\d+)?)万)?"
    r"(?P<plain>\d[\d,]*(?:\.\d+)?)?(?P<unit>ドル|円|ユーロ|ポンド)"
)
_EN_MONEY = re.compile(
    r"(?:US)?(?P<symbol>[$¥€£])\s?(?P<value>\d[\d,]*(?:\.\d+)?)(?:\s*(?P<scale>trillion|billion|million|thousand|bn|m)\b)?"
    r"|(?P<value2>\d[\d,]*(?:\.\d+)?)\s*(?P<scale2>trillion|billion|million|thousand)?\s*"
    r"(?P<word>dollars?|yen|euros?|pounds?)\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?(?:%|percent\b|パーセント)", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![A-Za-z\d-])(?<![A-Za-z]-)\d[\d,]*(?:\.\d+)?(?![A-Za-z\d])")  # not AP1000, F-35, G7, 6G
_EN_SCALES = {"trillion": 10**12, "billion": 10**9, "bn": 10**9, "million": 10**6, "m": 10**6, "thousand": 10**3}
_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}
_EN_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b", re.IGNORECASE)
_JA_MONTH = re.compile(r"(\d{1,2})月")


def _value(text: str | None) -> float:
    return float(text.replace(",", "")) if text else 0.0


def _fmt(value: float) -> str:
    return str(int(round(value))) if abs(value - round(value)) < 1e-6 else f"{value:g}"


def number_tokens(text: str) -> list[str]:
    """All amounts, percentages, months and bare numbers of ``text`` as canonical tokens."""
    text = unicodedata.normalize("NFKC", text)
    tokens: list[str] = []

    def money_ja(match: re.Match[str]) -> str:
        if not any(match.group(g) for g in ("cho", "oku", "man", "plain")):
            return match.group(0)
        total = (_value(match.group("cho")) * 1e12 + _value(match.group("oku")) * 1e8
                 + _value(match.group("man")) * 1e4 + _value(match.group("plain")))
        tokens.append(f"{_CURRENCIES[match.group('unit')]}:{_fmt(total)}")
        return " "

    def money_en(match: re.Match[str]) -> str:
        value, scale = match.group("value") or match.group("value2"), match.group("scale") or match.group("scale2")
        currency = _CURRENCIES[(match.group("symbol") or match.group("word")).lower()]
        tokens.append(f"{currency}:{_fmt(_value(value) * _EN_SCALES.get((scale or '').lower(), 1))}")
        return " "

    def percent(match: re.Match[str]) -> str:
        tokens.append(f"pct:{_fmt(_value(match.group(1)))}")
        return " "

    def month(match: re.Match[str]) -> str:
        tokens.append(f"month:{_MONTHS[match.group(1).lower()]}")
        return " "

    def month_ja(match: re.Match[str]) -> str:
        tokens.append(f"month:{int(match.group(1))}")
        return " "

    rest = _JA_MONEY.sub(money_ja, text)
    rest = _EN_MONEY.sub(money_en, rest)
    rest = _PERCENT.sub(percent, rest)
    rest = _EN_MONTH.sub(month, rest)
    rest = _JA_MONTH.sub(month_ja, rest)
    tokens.extend(f"num:{_fmt(_value(m.group(0)))}" for m in _NUMBER.finditer(rest))
    return tokens


def amount_tokens(text: str) -> set[str]:
    """Only the money and percentage tokens of ``text``."""
    return {t for t in number_tokens(text) if t.startswith((*MONEY_PREFIXES, "pct:"))}


def kind_of(token: str) -> str:
    """What a number token counts: ``usd``, ``jpy``, ``pct``, ``num``, ``month``."""
    return token.split(":", 1)[0]


def is_money(token: str) -> bool:
    return token.startswith(MONEY_PREFIXES)


def amount_phrases(text: str) -> dict[str, str]:
    """Each money amount and percentage of ``text`` by its token, with the words that state it
    (``{"usd:20000000000": "200億ドル"}``), as written."""
    text = unicodedata.normalize("NFKC", text).replace("**", "")
    found: dict[str, str] = {}
    for pattern in (_JA_MONEY, _EN_MONEY, _PERCENT):
        for match in pattern.finditer(text):
            tokens = amount_tokens(match.group(0))
            if len(tokens) == 1:
                found.setdefault(next(iter(tokens)), match.group(0).strip())
    return found
