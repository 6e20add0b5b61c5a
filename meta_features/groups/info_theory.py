"""Information-theoretic meta-features (PyMFE ``info-theory``; Michie et al. 1994, StatLog).

Numeric attributes are first discretised as PyMFE does: equal-frequency bins, ``b = ⌊N^{1/3}⌋``
of them, cut at the ``1/b, 2/b, …, 1`` quantiles (duplicate cuts merged); categorical
attributes keep their values. Then, with base-2 logarithms, attribute ``X`` and class ``Y``:

* ``class_ent = H(Y)``, ``attr_ent = H(X)`` per attribute;
* ``joint_ent = H(X, Y) = −Σ (p_xy + ε) log₂(p_xy + ε)`` over the cells of the contingency
  table, ``ε = 10⁻⁸`` (PyMFE's guard against ``log 0``);
* ``mut_inf = H(X) + H(Y) − H(X, Y)``;
* ``eq_num_attr = D · H(Y) / Σ_j I(X_j; Y)``, the number of attributes that would carry the
  class's information at the average rate;
* ``ns_ratio = (Σ_j H(X_j) − Σ_j I(X_j; Y)) / Σ_j I(X_j; Y)``, noise over signal;
* ``class_conc`` (per attribute) and ``attr_conc`` (per ordered pair of attributes, on at most
  12 seeded-random attributes): the concentration coefficient of Goodman & Kruskal (1954),
  ``τ(A → B) = (Σ_ij p_ij² / p_·j − Σ_i p_i·²) / (1 − Σ_i p_i·²)`` on the contingency table
  of ``A`` (rows) and ``B`` (columns), with ``ε`` added to every cell as PyMFE does.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from meta_features.context import Context
from meta_features.groups._common import Value
from meta_features.result import Missing

EPSILON = 1e-8
_MERGE_TOLERANCE = 1e-8


def equal_frequency_codes(column: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin indices of ``column`` for ``n_bins`` equal-frequency bins (PyMFE's cuts)."""
    cuts = np.quantile(column, np.linspace(0.0, 1.0, n_bins + 1)[1:])
    cuts = np.unique(cuts[np.append(True, np.diff(cuts) > _MERGE_TOLERANCE)])
    return np.asarray(np.digitize(column, bins=cuts, right=True))


def discretise(X: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    """Each column as compact integer codes ``0..L−1``: categorical as is, numeric binned."""
    n_bins = max(int(X.shape[0] ** (1 / 3)), 1)
    codes = np.empty(X.shape, dtype=np.int64)
    for j in range(X.shape[1]):
        if categorical[j]:
            codes[:, j] = np.unique(X[:, j], return_inverse=True)[1].reshape(-1)
        else:
            codes[:, j] = _compact(equal_frequency_codes(X[:, j], n_bins))
    return codes


def _compact(codes: np.ndarray) -> np.ndarray:
    """Non-negative integer codes renumbered ``0..L−1`` in order, without a sort."""
    present = np.bincount(codes) > 0
    return np.asarray((np.cumsum(present) - 1)[codes])


def contingency(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Joint proportions of two code vectors over their observed levels, ``(L_a, L_b)``."""
    levels_b = int(b.max()) + 1
    counts = np.bincount(a * levels_b + b, minlength=(int(a.max()) + 1) * levels_b)
    table = counts.reshape(-1, levels_b).astype(np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    return np.asarray(table / table.sum())


def entropy(proportions: np.ndarray) -> float:
    """Shannon entropy in bits of positive proportions."""
    p = proportions[proportions > 0]
    return float(-np.sum(p * np.log2(p)))


def joint_entropy(table: np.ndarray) -> float:
    """``−Σ (p + ε) log₂(p + ε)`` over every cell of a contingency table."""
    shifted = table + EPSILON
    return float(-np.sum(shifted * np.log2(shifted)))


def concentration(table: np.ndarray) -> float:
    """Goodman–Kruskal concentration of the column variable given the row variable.

    ``(Σ_ij p_ij² / p_·j − Σ_i p_i·²) / (1 − Σ_i p_i·²)``, NaN when the row variable is
    constant.
    """
    p = table + EPSILON
    row_square = np.sum(p.sum(axis=1) ** 2)
    if np.isclose(row_square, 1.0):
        return float("nan")
    return float((np.sum(p**2 / p.sum(axis=0)) - row_square) / (1.0 - row_square))


def compute(ctx: Context, wanted: frozenset[str]) -> dict[str, Value]:
    """The information-theoretic group's features for ``ctx`` (``attr_conc`` if ``wanted``)."""
    codes = discretise(ctx.X, ctx.view.categorical)
    y = ctx.codes
    n_attr = codes.shape[1]
    class_ent = entropy(ctx.counts / ctx.counts.sum())
    attr_ent = np.array([entropy(np.bincount(codes[:, j]) / len(y)) for j in range(n_attr)])
    tables = [contingency(codes[:, j], y) for j in range(n_attr)]
    joint_ent = np.array([joint_entropy(t) for t in tables])
    mut_inf = attr_ent + class_ent - joint_ent
    total_information = float(mut_inf.sum())
    no_information = "the attributes carry no information about the class (Σ I(X; Y) = 0)"
    return {
        "class_ent": class_ent,
        "attr_ent": attr_ent,
        "joint_ent": joint_ent,
        "mut_inf": mut_inf,
        "eq_num_attr": Missing(no_information)
        if total_information <= 0
        else n_attr * class_ent / total_information,
        "ns_ratio": Missing(no_information)
        if total_information <= 0
        else (float(attr_ent.sum()) - total_information) / total_information,
        "attr_conc": attribute_concentrations(codes, ctx)
        if "attr_conc" in wanted
        else Missing("not requested"),
        "class_conc": np.array([concentration(t) for t in tables]),
    }


def attribute_concentrations(codes: np.ndarray, ctx: Context) -> Value:
    """``τ`` of every ordered pair among at most ``attr_conc_max_attributes`` attributes.

    The attributes are drawn as PyMFE draws them: ``RandomState(seed).choice`` without
    replacement, when there are more than the cap.
    """
    n_attr = codes.shape[1]
    if n_attr < 2:
        return Missing("attr_conc needs at least two attributes")
    chosen = np.arange(n_attr)
    cap = ctx.config.attr_conc_max_attributes
    if n_attr > cap:
        chosen = np.random.RandomState(ctx.random_state).choice(chosen, size=cap, replace=False)
    return np.array(
        [concentration(contingency(codes[:, a], codes[:, b])) for a, b in permutations(chosen, 2)]
    )
