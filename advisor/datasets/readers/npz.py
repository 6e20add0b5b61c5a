"""NumPy ``.npz`` archives, loaded with ``allow_pickle=False`` (object arrays are refused).

Arrays are found by name: features under ``X`` (or ``x``, ``features``, ``data``, ``images``),
labels under the ``label`` option or ``y`` (or ``labels``, ``label``, ``target``), optional
``groups`` and ``feature_names``. Two-dimensional features are vector data and go through the
same encoder and missing-value policy as tables; three- and four-dimensional ones are images,
kept at their size (``image_size`` applies to image files, not to arrays).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from advisor import errors
from advisor.datasets.dataset import Dataset, Provenance, make_dataset
from advisor.datasets.encoder import TabularEncoder, refuse_encoder
from advisor.datasets.options import LoadOptions
from advisor.datasets.safezip import open_zip
from advisor.datasets.sources import RawInput
from advisor.datasets.tabular import frame_to_dataset, refuse_dropped_columns
from advisor.errors import DatasetError
from advisor.settings import DataLimits

FEATURE_KEYS = ("X", "x", "features", "data", "images")
LABEL_KEYS = ("y", "labels", "label", "target")


def read_npz(
    raw: RawInput,
    options: LoadOptions,
    limits: DataLimits,
    *,
    encoder: TabularEncoder | None = None,
) -> Dataset:
    """Read an NPZ archive of features and labels.

    Raises:
        DatasetError: ``dataset.pickle_refused``, ``dataset.missing_array``,
            ``dataset.malformed``, and the checks of :func:`make_dataset`.
    """
    with _open(raw, limits) as archive:
        keys = list(archive.files)
        x_key = _find_key(keys, FEATURE_KEYS, "features")
        if isinstance(options.label, int):
            raise DatasetError(
                "For NPZ files, label names an array (e.g. 'y'), not a column position.",
                code=errors.BAD_OPTION,
            )
        y_key = (
            options.label if options.label is not None else _find_key(keys, LABEL_KEYS, "labels")
        )
        if y_key not in keys:
            raise _missing(y_key, "labels", keys)
        group_key = options.groups or ("groups" if "groups" in keys else None)
        if group_key is not None and group_key not in keys:
            raise _missing(group_key, "groups", keys)
        X = _array(archive, x_key)
        y = _array(archive, y_key)
        groups = None if group_key is None else _array(archive, group_key)
        names = _array(archive, "feature_names") if "feature_names" in keys else None
    provenance = Provenance(
        name=raw.name,
        format="npz",
        sha256=raw.sha256,
        size_bytes=raw.size_bytes,
        label_column=y_key,
    )
    if X.ndim == 2 and options.modality != "image":
        arrays = _Arrays(X=X, y=y, y_key=y_key, groups=groups, names=names)
        return _vectors(arrays, options, provenance, limits, encoder)
    refuse_encoder(encoder, "images")
    refuse_dropped_columns(options, "images")
    return make_dataset(
        X,
        y,
        modality=options.modality,
        groups=groups,
        provenance=provenance,
        limits=limits,
        check_labels=options.purpose == "train",
    )


def read_npz_to_classify(
    raw: RawInput,
    options: LoadOptions,
    limits: DataLimits,
    *,
    encoder: TabularEncoder | None = None,
) -> Dataset | tuple[np.ndarray, list[str] | None]:
    """Rows to classify from an NPZ archive.

    With a labels array (named by ``label``, or ``y``, ``labels``…), the labeled
    :class:`Dataset` of :func:`read_npz`; without one, the features array and its
    ``feature_names`` (``None`` if it has none).
    """
    with _open(raw, limits) as archive:
        keys = list(archive.files)
        labeled = options.label is not None or any(key in keys for key in LABEL_KEYS)
        if not labeled:
            X = _array(archive, _find_key(keys, FEATURE_KEYS, "features"))
            names = _array(archive, "feature_names") if "feature_names" in keys else None
            return X, None if names is None else [str(n) for n in names]
    return read_npz(raw, options, limits, encoder=encoder)


def _open(raw: RawInput, limits: DataLimits) -> Any:
    data = raw.data or b""
    open_zip(data, limits)  # entry names, sizes and compression ratios checked first
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise DatasetError(f"Not a readable NPZ archive: {err}.", code=errors.MALFORMED) from None


@dataclass(frozen=True)
class _Arrays:
    X: np.ndarray
    y: np.ndarray
    y_key: str
    groups: np.ndarray | None
    names: np.ndarray | None


def _vectors(
    arrays: _Arrays,
    options: LoadOptions,
    provenance: Provenance,
    limits: DataLimits,
    encoder: TabularEncoder | None,
) -> Dataset:
    X, y, y_key, groups, names = arrays.X, arrays.y, arrays.y_key, arrays.groups, arrays.names
    if X.dtype.kind not in "biuf":
        raise DatasetError(f"Features must be numeric, got dtype {X.dtype}.", code=errors.BAD_DTYPE)
    columns = [str(n) for n in names] if names is not None else [f"x{i}" for i in range(X.shape[1])]
    if len(columns) != X.shape[1] or len(set(columns)) != len(columns):
        raise DatasetError(
            "feature_names must hold one unique name per feature column.",
            code=errors.SHAPE_MISMATCH,
        )
    for name, values in (("labels", y), ("groups", groups)):
        if values is not None and (values.ndim != 1 or values.shape[0] != X.shape[0]):
            raise DatasetError(
                f"{X.shape[0]} feature rows but {name} of shape {values.shape}.",
                code=errors.SHAPE_MISMATCH,
            )
    frame = pd.DataFrame(X, columns=columns)
    label = y_key if y_key not in columns else "__label__"
    frame[label] = y
    group_column = None
    if groups is not None:
        group_column = "__groups__"
        frame[group_column] = groups
    frame_options = options.model_copy(update={"label": label, "groups": group_column})
    return frame_to_dataset(
        frame, options=frame_options, provenance=provenance, limits=limits, encoder=encoder
    )


def _find_key(keys: list[str], candidates: tuple[str, ...], what: str) -> str:
    for key in candidates:
        if key in keys:
            return key
    raise _missing("/".join(candidates), what, keys)


def _missing(key: str, what: str, keys: list[str]) -> DatasetError:
    return DatasetError(
        f"The NPZ archive has no {what} array named {key}; it holds {keys}.",
        code=errors.MISSING_ARRAY,
        arrays=keys,
    )


def _array(archive: Any, key: str) -> np.ndarray:
    try:
        return np.asarray(archive[key])
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise DatasetError(
                f"The array {key!r} holds Python objects, which would need pickle to load; "
                "pickle is never loaded. Save strings as a fixed-width str array instead.",
                code=errors.PICKLE_REFUSED,
                array=key,
            ) from None
        raise DatasetError(
            f"The array {key!r} is corrupt: {err}.", code=errors.MALFORMED, array=key
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise DatasetError(
            f"The array {key!r} is corrupt: {err}.", code=errors.MALFORMED, array=key
        ) from None
