"""The result of an extraction: :class:`MetaFeatures`, and the :class:`Missing` marker."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from meta_features.schema import Tier


@dataclass(frozen=True)
class Missing:
    """Marks a value that is undefined for this data, and says why."""

    reason: str


class MetaFeatures(Mapping[str, float]):
    """A mapping ``name -> float`` over the whole requested schema.

    Values are NaN only where a feature is undefined for the data; :attr:`reasons` says why
    for each of them. :attr:`timings` holds the seconds each group took, :attr:`tiers` the cost
    tier of each feature, :attr:`view` how the classic groups saw the data.
    """

    def __init__(
        self,
        values: dict[str, float],
        *,
        reasons: dict[str, str],
        timings: dict[str, float],
        tiers: dict[str, Tier],
        view: str,
    ) -> None:
        self._values = dict(values)
        self.reasons = dict(reasons)
        self.timings = dict(timings)
        self.tiers = dict(tiers)
        self.view = view

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        defined = sum(not math.isnan(v) for v in self._values.values())
        return f"MetaFeatures({len(self)} features, {defined} defined, view={self.view!r})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form; NaN values become ``None`` (their reason is alongside)."""
        return {
            "values": {k: (None if math.isnan(v) else v) for k, v in self._values.items()},
            "reasons": dict(self.reasons),
            "timings": dict(self.timings),
            "tiers": {k: int(t) for k, t in self.tiers.items()},
            "view": self.view,
        }
