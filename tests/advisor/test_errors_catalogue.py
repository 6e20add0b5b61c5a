"""docs/ERRORS.md and the declared error codes agree, both ways."""

from __future__ import annotations

import re
from pathlib import Path

import advisor.comparison
import advisor.core
import advisor.datasets
import advisor.datasets.builtin
import advisor.reports  # noqa: F401
import api.app
import api.cli  # noqa: F401
import learners  # noqa: F401
import meta_features  # noqa: F401
from advisor.errors import known_codes

DOC = Path(__file__).resolve().parents[2] / "docs" / "ERRORS.md"


def test_every_declared_code_is_documented_and_every_documented_code_exists() -> None:
    documented = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    declared = {code for code in known_codes() if not code.startswith("test.")}
    assert declared - documented == set(), "codes missing from docs/ERRORS.md"
    assert documented - declared == set(), "docs/ERRORS.md lists codes nobody declares"
