"""Columns that name rows rather than describe them: found, so they are not learned from.

A row's identifier — a customer number, a file name, pandas' saved index (``Unnamed: 0``) —
describes nothing about the row: a model that learns from it memorises the training rows, and
new rows never share their values. Worse, when a file is sorted by class its running number
*predicts* the class on the training data and on any test file cut from the same table: a
leak, which cross-validation rewards and new data punishes. Few-shot data makes this easy to
miss (ten rows of a column of ten different numbers look like any other numeric column), so
the loader looks for such columns and leaves them out, with a warning that names them
(``identifiers="keep"`` keeps them; ``drop=[...]`` leaves out any other column).

A column is taken for an identifier when it has at least :data:`MIN_ROWS` rows, no missing
value, every value different, and one of:

* it holds text — a name or code per row, which no new row can share (a categorical column
  whose every category occurs once teaches nothing either);
* it holds whole numbers and its name reads like an identifier (``id``, ``customer_id``,
  ``CustomerID``, ``index``, ``key``, ``uuid``, ``row``, ``Unnamed: 0``…; see
  :func:`looks_like_id_name`);
* it holds whole numbers that are consecutive (``max - min + 1`` equals the number of rows,
  in any order) — a running number.

Numbers with fractions are never taken, nor numbers without an identifier's name that skip
values: a measurement can be all-different on a few rows.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

MIN_ROWS = 10
"""Below this many rows, every-value-different says little about a column."""

ID_NAME = re.compile(
    r"""^(?:
        id | ids | key | index | idx | uuid | guid | row | rowid | row_?(?:id|no|number|num)
        | record(?:_?id)? | serial | sn | unnamed:?\s*\d+ | \#
    )$
    | [_\s.-](?:id|uuid|guid|key)$   # customer_id, customer id, order.key
    """,
    re.VERBOSE,
)
"""Column names that read like a row identifier, matched on the lower-cased name."""

CAMEL_ID = re.compile(r"[a-z0-9](?:Id|ID|Key|UUID)$")
"""Camel-case identifier names, which need their capital letters: ``CustomerID`` and
``orderId``, but not ``paid``."""


def looks_like_id_name(name: str) -> bool:
    """Whether ``name`` reads like an identifier's column name.

    See :data:`ID_NAME` and :data:`CAMEL_ID`.
    """
    text = name.strip()
    return CAMEL_ID.search(text) is not None or ID_NAME.search(text.lower()) is not None


def identifier_reason(name: str, column: pd.Series) -> str | None:
    """Why ``column`` looks like a row identifier, in a few words; ``None`` when it does not.

    See the module's docstring for the rules.
    """
    n_rows = len(column)
    all_different = n_rows >= MIN_ROWS and column.notna().all() and column.nunique() == n_rows
    if not all_different or pd.api.types.is_bool_dtype(column):
        return None
    if not pd.api.types.is_numeric_dtype(column):
        return f"{n_rows} different texts, one per row"
    values = column.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values) & (values == np.round(values))):
        return None  # measurements, not numbers given to rows
    if looks_like_id_name(name):
        return "whole numbers, one per row, under an identifier's name"
    running = values.max() - values.min() + 1 == n_rows
    return f"a running number, {int(values.min())} to {int(values.max())}" if running else None


def find_identifiers(frame: pd.DataFrame) -> dict[str, str]:
    """The columns of ``frame`` that look like row identifiers, each with its reason."""
    found = {}
    for name in frame.columns:
        reason = identifier_reason(str(name), frame[name])
        if reason is not None:
            found[str(name)] = reason
    return found
