"""The data layer: users' files and the built-in domains as validated :class:`Dataset` objects.

* :func:`load_dataset` — CSV/TSV, Parquet, NPZ, JSON/JSON Lines, folders or zips of images;
* :func:`builtin_domains`, :func:`load_builtin` — the built-in benchmark domains;
* :func:`sample_task`, :func:`split_classes`, :func:`split_domains` — few-shot tasks and splits.
"""

from advisor.datasets.builtin import builtin_domains, domain_cards, load_builtin
from advisor.datasets.dataset import Dataset, DatasetInfo, ShotStats, make_dataset
from advisor.datasets.encoder import TabularEncoder
from advisor.datasets.loader import load_dataset
from advisor.datasets.options import LoadOptions
from advisor.datasets.tasks import (
    ClassSplit,
    Task,
    leave_one_domain_out,
    sample_task,
    split_classes,
    split_domains,
)

__all__ = [
    "ClassSplit",
    "Dataset",
    "DatasetInfo",
    "LoadOptions",
    "ShotStats",
    "TabularEncoder",
    "Task",
    "builtin_domains",
    "domain_cards",
    "leave_one_domain_out",
    "load_builtin",
    "load_dataset",
    "make_dataset",
    "sample_task",
    "split_classes",
    "split_domains",
]
