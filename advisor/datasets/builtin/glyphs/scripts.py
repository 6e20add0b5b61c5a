"""The domains of the glyphs benchmark: Unicode scripts and blocks, in priority order.

A domain's candidate classes are the code points of its ranges whose Unicode general category
is a letter (L*), a number (N*) or a symbol (S*); combining marks, spaces, punctuation and
unassigned code points are left out. When two candidates render alike (Latin ``A``, Greek
``Α`` and Cyrillic ``А``), the domain listed first keeps the class (see
:mod:`~advisor.datasets.builtin.glyphs.catalogue`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Script:
    """A domain: a name, a description and inclusive code-point ranges."""

    name: str
    description: str
    ranges: tuple[tuple[int, int], ...]

    def candidates(self) -> list[int]:
        """Code points of the ranges that are letters, numbers or symbols."""
        return [
            cp
            for low, high in self.ranges
            for cp in range(low, high + 1)
            if unicodedata.category(chr(cp))[0] in "LNS"
        ]


SCRIPTS: tuple[Script, ...] = (
    Script("latin_upper", "Latin capital letters A-Z", ((0x41, 0x5A),)),
    Script("latin_lower", "Latin small letters a-z", ((0x61, 0x7A),)),
    Script("numerals", "Decimal digits 0-9", ((0x30, 0x39),)),
    Script("greek", "Greek capital and small letters", ((0x391, 0x3A9), (0x3B1, 0x3C9))),
    Script("cyrillic", "Cyrillic letters of the Russian alphabet", ((0x410, 0x44F),)),
    Script("armenian", "Armenian capital and small letters", ((0x531, 0x556), (0x561, 0x586))),
    Script("georgian", "Georgian Mkhedruli letters", ((0x10D0, 0x10FA),)),
    Script("hebrew", "Hebrew letters, final forms included", ((0x5D0, 0x5EA),)),
    Script("arabic", "Arabic letters, isolated forms", ((0x621, 0x64A),)),
    Script("lao", "Lao consonants and independent signs", ((0xE81, 0xEDF),)),
    Script(
        "canadian_syllabics",
        "Unified Canadian Aboriginal Syllabics",
        ((0x1401, 0x166C), (0x166F, 0x167F)),
    ),
    Script("math_operators", "Mathematical Operators block", ((0x2200, 0x22FF),)),
    Script("arrows", "Arrows block", ((0x2190, 0x21FF),)),
    Script("box_drawing", "Box Drawing block", ((0x2500, 0x257F),)),
    Script("geometric_shapes", "Geometric Shapes block", ((0x25A0, 0x25FF),)),
    Script("braille", "Braille patterns (dot combinations)", ((0x2801, 0x28FF),)),
)

SCRIPT_BY_NAME = {script.name: script for script in SCRIPTS}
