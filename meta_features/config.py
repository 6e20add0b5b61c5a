"""Knobs of the extractor, with the caps that keep every group fast on large data."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from meta_features.errors import BAD_OPTION, InvalidInputError


@dataclass(frozen=True)
class ExtractConfig:
    """How :func:`~meta_features.extract` computes the meta-features.

    Attributes:
        cv_folds: folds of the landmarking cross-validation, capped by the smallest class.
        cv_shuffle: shuffle rows (seeded) before cutting folds. PyMFE does not shuffle, which
            makes the folds depend on the file's row order; we do by default.
        landmarking_max_rows: landmarking runs on a seeded stratified subsample of at most this
            many rows (its 1-NN models are ``O(N²)``, its trees ``O(N log N)`` per fold);
            ``None`` for all rows.
        lda_solver: scikit-learn's solver for ``linear_discr``: ``"lsqr"`` (the same decision
            rule as ``"svd"`` when the pooled covariance has full rank, and far faster on
            thousands of rows) or ``"svd"`` (PyMFE's).
        knn_algorithm: neighbour search of the 1-NN landmarks (``"auto"``; PyMFE's is
            ``"kd_tree"``); exact in every case, so only ties can differ.
        max_attributes: data with more attributes than this (and every image dataset) is
            described through a low-dimensional view (see :mod:`meta_features.view`).
        view_components: principal components kept by that view.
        attr_conc_max_attributes: ``attr_conc`` looks at all ordered pairs of at most this many
            seeded-random attributes (PyMFE's cap, 12).
        correlation_threshold: ``nr_cor_attr`` counts pairs with ``|r|`` at least this.
        outlier_whisker: ``nr_outliers`` uses Tukey's fences at this many IQRs.
        mmd_max_samples, pad_max_samples, sinkhorn_max_samples: per-side subsample caps of the
            quadratic similarity measures.
        rescale: rescale the numeric columns of *vector* data before the classic groups see
            them, as PyMFE's ``fit(rescale=...)`` does: ``"standard"`` (z-scores),
            ``"min-max"`` (to [0, 1]) or ``"robust"`` (median and interquartile range);
            ``None`` (PyMFE's default) describes the values as given. With a rescale the
            statistical, info-theory and landmarking features no longer depend on the
            columns' units; the general group and the source groups are unchanged. Images are
            never rescaled: pixels in [0, 1] and a source's embedding share one scale already.
    """

    cv_folds: int = 10
    cv_shuffle: bool = True
    landmarking_max_rows: int | None = 2000
    lda_solver: str = "lsqr"
    knn_algorithm: str = "auto"
    max_attributes: int = 128
    view_components: int = 32
    attr_conc_max_attributes: int = 12
    correlation_threshold: float = 0.5
    outlier_whisker: float = 1.5
    mmd_max_samples: int = 1000
    pad_max_samples: int = 2000
    sinkhorn_max_samples: int = 500
    rescale: Literal["standard", "min-max", "robust"] | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool | str) or value is None:
                continue
            if value <= 0:
                raise InvalidInputError(
                    f"ExtractConfig.{item.name} must be positive, got {value}.", code=BAD_OPTION
                )
        if self.lda_solver not in ("svd", "lsqr", "eigen"):
            raise InvalidInputError(f"Unknown lda_solver {self.lda_solver!r}.", code=BAD_OPTION)
        if self.knn_algorithm not in ("auto", "brute", "kd_tree", "ball_tree"):
            raise InvalidInputError(
                f"Unknown knn_algorithm {self.knn_algorithm!r}.", code=BAD_OPTION
            )
        if self.rescale not in (None, "standard", "min-max", "robust"):
            raise InvalidInputError(
                f"Unknown rescale {self.rescale!r}: use 'standard', 'min-max', 'robust' or None.",
                code=BAD_OPTION,
            )
        if self.cv_folds < 2:
            raise InvalidInputError("ExtractConfig.cv_folds must be at least 2.", code=BAD_OPTION)

    @classmethod
    def pymfe_compatible(cls) -> ExtractConfig:
        """The settings under which the classic groups reproduce PyMFE 0.4.4's defaults.

        Ten unshuffled stratified folds on every row, PyMFE's LDA solver and neighbour search.
        (The view thresholds do not matter for the small tabular datasets PyMFE is compared
        on.)
        """
        return cls(
            cv_folds=10,
            cv_shuffle=False,
            landmarking_max_rows=None,
            lda_solver="svd",
            knn_algorithm="kd_tree",
        )
