"""``load_dataset``: any supported file, folder or byte string to a validated :class:`Dataset`."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from advisor import errors
from advisor.datasets.dataset import Dataset
from advisor.datasets.encoder import TabularEncoder
from advisor.datasets.formats import detect_format
from advisor.datasets.options import LoadOptions
from advisor.datasets.readers import READERS
from advisor.datasets.sources import DataSource, read_source
from advisor.datasets.tabular import refuse_dropped_columns
from advisor.errors import DatasetError
from advisor.settings import DataLimits, get_settings


def load_dataset(
    source: DataSource,
    *,
    name: str | None = None,
    options: LoadOptions | None = None,
    limits: DataLimits | None = None,
    encoder: TabularEncoder | None = None,
    **option_values: Any,
) -> Dataset:
    """Load a labeled dataset from a file, a folder, bytes or a binary file object.

    Formats: CSV/TSV (encoding and delimiter sniffed, header row required), Parquet, NPZ
    (``allow_pickle=False``), JSON records and JSON Lines, and a folder or zip of class
    sub-folders of images. See :class:`~advisor.datasets.options.LoadOptions` for every option
    (``label``, ``modality``, ``categorical``, ``missing``, ``image_size``, ``color``…), passed
    either as ``options=`` or as keyword arguments.

    Args:
        source: a path (file or folder), bytes, or a binary file object.
        name: the file name for bytes and file objects (helps recognise the format).
        options: loader options; mutually exclusive with keyword options.
        limits: size limits; the configured ones (``ADVISOR_*`` settings) if omitted.
        encoder: the fitted encoder of the *training* table (``train.encoder``), for a test
            or prediction file: its rows are encoded the training data's way (same columns,
            fill values and categories) instead of by an encoder fitted on this file alone.
        **option_values: fields of :class:`LoadOptions`, e.g. ``label="species"``.

    Returns:
        The validated :class:`Dataset`; ``dataset.info`` describes it.

    Raises:
        advisor.errors.AdvisorError: a subclass with a stable ``code`` for every kind of bad
            input (see ``docs/ERRORS.md``); never an unexplained crash.

    Example:
        >>> ds = load_dataset("penguins.csv", label="species")          # doctest: +SKIP
        >>> ds.X.shape, ds.info.n_classes, ds.info.shots.min            # doctest: +SKIP
    """
    if options is not None and option_values:
        raise DatasetError(
            "Pass either options=LoadOptions(...) or keyword options, not both.",
            code=errors.BAD_OPTION,
        )
    options = options or parse_options(option_values)
    limits = limits or get_settings().data_limits()
    raw = read_source(source, name=name, limits=limits)
    fmt = options.format or detect_format(raw)
    if (fmt == "image_folder") != (raw.directory is not None):
        raise DatasetError(
            f"format={fmt!r} does not fit a {'folder' if raw.directory else 'file'}.",
            code=errors.BAD_OPTION,
        )
    if options.modality == "image" and fmt not in ("image_zip", "image_folder", "npz"):
        raise DatasetError(
            f"A {fmt} file holds vector data; images come as a folder, a zip or an NPZ array.",
            code=errors.BAD_OPTION,
        )
    if fmt in ("image_zip", "image_folder"):
        refuse_dropped_columns(options, "images")
    return READERS[fmt](raw, options, limits, encoder=encoder)


def parse_options(values: dict[str, Any]) -> LoadOptions:
    """Validate loader options, turning pydantic's error into ``dataset.bad_option``."""
    try:
        return LoadOptions(**values)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}" for e in err.errors()
        )
        raise DatasetError(f"Invalid loader options: {problems}", code=errors.BAD_OPTION) from None
