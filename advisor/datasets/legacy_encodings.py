r"""Choosing among legacy 8-bit encodings for text that is not UTF-8.

Byte-level detectors, ``charset-normalizer`` included, need more text than a typical data file
holds in its few accented words: on a small French table saved by Excel (Windows-1252) it
answers Windows-1257 and ``très`` reads ``trčs``. Data files are mostly digits and ASCII, so
we decide with a simple plausibility score of the decoded text instead, computed over its
non-ASCII characters ``ch`` with neighbours ``l`` and ``r``:

* a Western European letter (``é``, ``ü``, ``ñ``, ``ø``…) scores +2 next to an ASCII letter
  (it sits inside a Latin word) and −1 otherwise;
* a Central European letter (``ł``, ``ř``, ``ő``…) scores +1 next to an ASCII letter, −1
  otherwise;
* a Cyrillic letter scores +2 next to another Cyrillic letter, −2 next to an ASCII letter
  (scripts do not mix inside words), 0 alone;
* another letter scores −1; a non-letter between two letters (``¿ó³w``) scores −2.

The score is the mean over non-ASCII characters. The candidates are Windows-1252, Windows-1251
and charset-normalizer's pick; the highest score wins, ties going to Windows-1252, the most
common legacy encoding of data files. When charset-normalizer recognises a multi-byte encoding
(Shift-JIS, GB18030, Big5, EUC-KR, UTF-16/32 without a mark…), its answer is taken as is.

Known limit: Central European text in Windows-1250 (Polish, Czech) decodes into plausible
Western letters under Windows-1252 and is guessed wrong; such files load with a warning and
``encoding="cp1250"`` reads them right.
"""

from __future__ import annotations

import codecs

import charset_normalizer

WESTERN_LETTERS = frozenset("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœ")
CENTRAL_LETTERS = frozenset("ąćęłńśźżčďěňřšťůžőűășțľĺŕ")
SINGLE_BYTE_CANDIDATES = ("cp1252", "cp1251")
_SAMPLE_CHARS = 200_000
_MULTI_BYTE_PREFIXES = (
    "utf_16", "utf_32", "shift_jis", "cp932", "euc", "gb", "big5", "cp936", "cp949", "cp950",
    "iso2022", "johab", "hz",
)  # fmt: skip


def plausibility(text: str) -> float:
    """Mean plausibility of the non-ASCII characters of ``text`` (module docstring)."""
    sample = text[:_SAMPLE_CHARS]
    total, count = 0.0, 0
    for i, ch in enumerate(sample):
        if ch.isascii():
            continue
        count += 1
        before = sample[i - 1] if i else " "
        after = sample[i + 1] if i + 1 < len(sample) else " "
        total += _score(ch, before, after)
    return total / count if count else 0.0


def _score(ch: str, before: str, after: str) -> float:
    if not ch.isalpha():
        return -2.0 if before.isalpha() and after.isalpha() else 0.0
    near_ascii = _ascii_letter(before) or _ascii_letter(after)
    if _cyrillic(ch):
        if near_ascii:
            return -2.0
        return 2.0 if _cyrillic(before) or _cyrillic(after) else 0.0
    low = ch.lower()
    if low in WESTERN_LETTERS:
        return 2.0 if near_ascii else -1.0
    if low in CENTRAL_LETTERS:
        return 1.0 if near_ascii else -1.0
    return -1.0


def _ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _cyrillic(ch: str) -> bool:
    return 0x400 <= ord(ch) < 0x530 and ch.isalpha()


def guess_legacy(data: bytes) -> tuple[str, str] | None:
    """``(text, encoding)`` of non-UTF-8 ``data`` by the rules above, or ``None``."""
    detected = charset_normalizer.from_bytes(data).best()
    picked = None if detected is None or detected.encoding is None else str(detected.encoding)
    if picked is not None and codecs.lookup(picked).name.replace("-", "_").startswith(
        _MULTI_BYTE_PREFIXES
    ):
        return str(detected), picked
    best: tuple[float, int, str, str] | None = None
    candidates = list(SINGLE_BYTE_CANDIDATES) + ([picked] if picked else [])
    for rank, encoding in enumerate(dict.fromkeys(candidates)):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        key = (plausibility(text), -rank, encoding, text)
        if best is None or key[:2] > best[:2]:
            best = key
    return None if best is None else (best[3], best[2])
