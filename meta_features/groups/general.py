"""General meta-features: sizes, counts and ratios (Rivolli et al. 2022; PyMFE ``general``).

With ``N`` examples, ``D`` attributes of which ``D_cat`` categorical and ``D_num = D − D_cat``
numeric, and ``n_k`` examples in class ``k`` of ``K``:

* ``nr_inst = N``, ``nr_attr = D``, ``nr_class = K``, ``nr_num = D_num``, ``nr_cat = D_cat``;
* ``nr_bin``: attributes with exactly two distinct values;
* ``attr_to_inst = D / N``, ``inst_to_attr = N / D``;
* ``cat_to_num = D_cat / D_num`` (undefined without numeric attributes),
  ``num_to_cat = D_num / D_cat`` (undefined without categorical attributes);
* ``freq_class``: the class proportions ``n_k / N`` (summarised by mean and sd);
* the few-shot view: ``shots_min``, ``shots_median``, ``shots_max`` — the smallest, median and
  largest ``n_k`` — and ``imbalance_ratio = max_k n_k / min_k n_k``.

The general group describes the raw data: for images, ``D`` is the number of pixel values.
Reference: A. Rivolli, L. P. F. Garcia, C. Soares, J. Vanschoren, A. C. P. L. F. de Carvalho,
"Meta-features for meta-learning", Knowledge-Based Systems 240 (2022).
"""

from __future__ import annotations

import numpy as np

from meta_features.context import Context
from meta_features.groups._common import Value, ratio, unique_counts


def compute(ctx: Context, wanted: frozenset[str]) -> dict[str, Value]:
    """The general group's features for ``ctx``."""
    n_rows, n_attr = ctx.flat.shape
    n_cat = int(ctx.categorical.sum()) if not ctx.is_image else 0
    n_num = n_attr - n_cat
    counts = ctx.counts[ctx.counts > 0]
    return {
        "nr_inst": float(n_rows),
        "nr_attr": float(n_attr),
        "nr_class": float(ctx.n_classes),
        "nr_num": float(n_num),
        "nr_cat": float(n_cat),
        "nr_bin": float(np.sum(unique_counts(ctx.flat) == 2)),
        "attr_to_inst": n_attr / n_rows,
        "inst_to_attr": n_rows / n_attr,
        "cat_to_num": ratio(n_cat, n_num, "there is no numeric attribute"),
        "num_to_cat": ratio(n_num, n_cat, "there is no categorical attribute"),
        "freq_class": counts / n_rows,
        "shots_min": float(counts.min()),
        "shots_median": float(np.median(counts)),
        "shots_max": float(counts.max()),
        "imbalance_ratio": float(counts.max() / counts.min()),
    }
