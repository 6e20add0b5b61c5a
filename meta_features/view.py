"""The low-dimensional view through which the classic groups see images and wide data.

Classic meta-features are defined on attributes; a 28×28 image has 784 "attributes" that are
pixels, and a 784×784 correlation matrix per request would cost far more than it tells. So:

* **vector data** with at most ``max_attributes`` columns is described as it is, or with its
  numeric columns rescaled when :attr:`ExtractConfig.rescale` asks (categorical columns keep
  their 0/1 codes);
* **images** are described through the source backbone's embedding when a source is given
  (what the transfer and meta learners will see), otherwise through their pixels scaled to
  [0, 1] and flattened;
* then, if the result has more than ``max_attributes`` columns — or is an image view with more
  than ``view_components`` — it is projected on its first principal components:
  ``min(view_components, N − 1, D)`` of them (PCA, Pearson 1901; scikit-learn's implementation,
  seeded).

The general group always describes the raw data (``nr_attr`` of a 28×28 image is 784); the
view is recorded in :attr:`MetaFeatures.view`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from meta_features.config import ExtractConfig


@dataclass(frozen=True, eq=False)
class View:
    """The matrix the statistical, info-theory and landmarking groups use."""

    matrix: np.ndarray
    categorical: np.ndarray
    description: str


def flatten_inputs(raw: np.ndarray) -> np.ndarray:
    """Inputs as a float64 matrix: images flattened, uint8 pixels scaled to [0, 1]."""
    flat = raw.reshape(raw.shape[0], -1)
    if raw.dtype == np.uint8:
        return flat.astype(np.float64) / 255.0
    return flat.astype(np.float64)


def rescaled(matrix: np.ndarray, numeric: np.ndarray, how: str) -> np.ndarray:
    """``matrix`` with its ``numeric`` columns rescaled, as PyMFE's ``rescale`` option does.

    * ``"standard"``: ``(x − mean) / sd`` (population sd; scikit-learn's ``StandardScaler``);
    * ``"min-max"``: ``(x − min) / (max − min)`` (``MinMaxScaler``);
    * ``"robust"``: ``(x − median) / IQR`` (``RobustScaler``).

    A constant column becomes 0 (scikit-learn's convention for a zero scale) — never NaN.
    """
    scaler = {"standard": StandardScaler, "min-max": MinMaxScaler, "robust": RobustScaler}[how]()
    result = matrix.copy()
    if numeric.any():
        columns = result[:, numeric]
        result[:, numeric] = scaler.fit_transform(columns)
        constant = np.ptp(columns, axis=0) == 0
        result[:, np.flatnonzero(numeric)[constant]] = 0.0
    return result


def make_view(
    raw: np.ndarray,
    *,
    is_image: bool,
    categorical: np.ndarray,
    embedding: np.ndarray | None,
    config: ExtractConfig,
    random_state: int,
) -> View:
    """Choose and build the view of ``raw`` (see the module docstring)."""
    if is_image and embedding is not None:
        base = embedding
        description = f"source embedding ({embedding.shape[1]} dims)"
        mask = np.zeros(base.shape[1], dtype=bool)
    elif is_image:
        base = flatten_inputs(raw)
        shape = "x".join(str(s) for s in raw.shape[1:])
        description = f"pixels ({shape}) scaled to [0, 1]"
        mask = np.zeros(base.shape[1], dtype=bool)
    else:
        base = flatten_inputs(raw)
        description = f"raw attributes ({base.shape[1]})"
        mask = categorical
        if config.rescale is not None:
            base = rescaled(base, ~mask, config.rescale)
            description = f"attributes ({base.shape[1]}), numeric ones rescaled ({config.rescale})"
    too_wide = base.shape[1] > config.max_attributes
    if (too_wide or is_image) and base.shape[0] >= 2:
        components = min(config.view_components, base.shape[0] - 1, base.shape[1])
        if base.shape[1] > components:
            pca = PCA(n_components=components, random_state=random_state)
            base = pca.fit_transform(base)
            description += f", projected on {components} principal components"
            mask = np.zeros(components, dtype=bool)
    return View(
        matrix=np.ascontiguousarray(base, dtype=np.float64),
        categorical=mask,
        description=description,
    )
