"""Intermediate results shared by the groups, each computed at most once per extraction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from meta_features.config import ExtractConfig
from meta_features.groups._common import unique_counts
from meta_features.source import SourceProfile
from meta_features.view import View, flatten_inputs, make_view


@dataclass(eq=False)
class Context:
    """The data of one extraction and everything derived from it, lazily and once.

    Attributes:
        raw: the inputs as given, ``(N, D)`` or images ``(N, H, W[, C])``.
        codes: integer class codes ``0..K-1``.
        n_classes: ``K``.
        categorical: which raw columns are categorical (vector data).
        is_image: whether ``raw`` holds images.
        source: the source profile, if any.
        config: the extractor's settings.
        random_state: seed of every random step.
    """

    raw: np.ndarray
    codes: np.ndarray
    n_classes: int
    categorical: np.ndarray
    is_image: bool
    source: SourceProfile | None
    config: ExtractConfig
    random_state: int

    @cached_property
    def counts(self) -> np.ndarray:
        """Examples per class, ``(K,)``."""
        return np.bincount(self.codes, minlength=self.n_classes)

    @cached_property
    def flat(self) -> np.ndarray:
        """The raw inputs as a float matrix (images flattened)."""
        return flatten_inputs(self.raw)

    embedding_problem: str | None = None

    @cached_property
    def embedding(self) -> np.ndarray | None:
        """The source backbone's embedding of the inputs ``(N, d)``, if it can be had.

        A source that cannot embed these inputs (another input shape, a failing network) is
        not a crash: the reason is kept in :attr:`embedding_problem` and the source groups
        report it.
        """
        if self.source is None:
            return None
        return self._from_source(self.source.embed, "embed", columns=self.source.dim)

    @cached_property
    def source_probs(self) -> np.ndarray | None:
        """The source classifier's probabilities for the inputs ``(N, Z)``, if they can be had."""
        if self.source is None:
            return None
        return self._from_source(self.source.predict_proba, "predict_proba", columns=None)

    def _from_source(
        self, function: Callable[[np.ndarray], np.ndarray], what: str, *, columns: int | None
    ) -> np.ndarray | None:
        try:
            result = np.asarray(function(self.raw), dtype=np.float64)
        except Exception as error:
            self.embedding_problem = f"the source's {what} failed on these inputs: {error}"
            return None
        expected = (self.raw.shape[0], columns) if columns else None
        if result.ndim != 2 or (expected and result.shape != expected):
            self.embedding_problem = f"the source's {what} returned shape {result.shape}"
            return None
        if not np.isfinite(result).all():
            self.embedding_problem = f"the source's {what} returned NaN or infinite values"
            return None
        return result

    @cached_property
    def view(self) -> View:
        """The matrix the classic groups describe (see :mod:`meta_features.view`)."""
        return make_view(
            self.raw,
            is_image=self.is_image,
            categorical=self.categorical,
            embedding=self.embedding if self.is_image else None,
            config=self.config,
            random_state=self.random_state,
        )

    @property
    def X(self) -> np.ndarray:
        """The view matrix ``(N, D')``."""
        return self.view.matrix

    @cached_property
    def covariance(self) -> np.ndarray:
        """Sample covariance (``ddof=1``) of the view's columns, ``(D', D')``."""
        return np.atleast_2d(np.cov(self.X, rowvar=False, ddof=1))

    @cached_property
    def distinct_counts(self) -> np.ndarray:
        """Distinct values in each view column."""
        return unique_counts(self.X)

    @cached_property
    def varying(self) -> np.ndarray:
        """Which view columns are not constant."""
        return np.asarray(self.distinct_counts > 1)
