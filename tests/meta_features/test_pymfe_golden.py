"""Golden values: the classic groups agree with PyMFE 0.4.4, the field's reference extractor.

PyMFE runs live here (a test-only dependency, pinned in the ``dev`` extra), so the reference
values are recomputed, never copied. Tolerance: PyMFE's own test tolerance, ``atol=1e-3`` and
``rtol=5 %``. Our extractor runs with :meth:`ExtractConfig.pymfe_compatible` (ten unshuffled
folds on all rows), the same summaries (mean, sd with ddof=1) and the same seed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.datasets

import meta_features as mf

pymfe = pytest.importorskip("pymfe.mfe", reason="PyMFE 0.4.4 is in the dev extra")

CLASSIC = ["general", "statistical", "info-theory", "landmarking"]
ATOL, RTOL = 1e-3, 0.05


def _both(X: np.ndarray, y: np.ndarray) -> tuple[dict[str, float], mf.MetaFeatures]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extractor = pymfe.MFE(groups=CLASSIC, summary=["mean", "sd"], random_state=0)
        extractor.fit(X, y)
        names, values = extractor.extract()
    ours = mf.extract(X, y, groups=CLASSIC, config=mf.ExtractConfig.pymfe_compatible())
    return dict(zip(names, values, strict=True)), ours


def _disagreements(theirs: dict[str, float], ours: mf.MetaFeatures) -> dict[str, tuple]:
    return {
        name: (value, theirs[name])
        for name, value in ours.items()
        if name in theirs
        and not (np.isnan(value) and np.isnan(theirs[name]))
        and not np.isclose(value, theirs[name], atol=ATOL, rtol=RTOL)
    }


@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer"])
def test_every_classic_feature_agrees_with_pymfe(dataset: str) -> None:
    X, y = getattr(sklearn.datasets, f"load_{dataset}")(return_X_y=True)
    theirs, ours = _both(X, y)
    compared = [name for name in ours if name in theirs]
    ours_only = {name for name in ours if name not in theirs}
    assert ours_only == {"shots_min", "shots_median", "shots_max", "imbalance_ratio"}
    assert len(compared) == 74
    assert _disagreements(theirs, ours) == {}


def test_deliberate_deviation_on_constant_attributes() -> None:
    """Digits has constant pixel columns; there (and only there) we deliberately differ.

    PyMFE returns NaN skewness, kurtosis and correlation for a constant attribute and lets the
    NaN swallow the whole mean; it gives a constant attribute a concentration of about 0.5
    (an artefact of its ``ε`` smoothing of ``0/0``), in ``class_conc`` and ``attr_conc``. We
    leave constant attributes out of these five features (docs/META_FEATURES.md,
    "Deviations"). On the varying columns alone the two extractors agree again.
    """
    X, y = sklearn.datasets.load_digits(return_X_y=True)
    X, y = X[:500], y[:500]  # enough rows for every class; keeps the test fast
    theirs, ours = _both(X, y)
    deviating = {name.split(".")[0] for name in _disagreements(theirs, ours)}
    assert deviating == {"skewness", "kurtosis", "cor", "class_conc", "attr_conc"}
    varying = X[:, np.ptp(X, axis=0) > 0]
    theirs, ours = _both(varying, y)
    assert _disagreements(theirs, ours) == {}
