"""Errors users of :mod:`advisor` catch, and the stable codes of the data layer.

The class hierarchy is defined in :mod:`meta_features.errors` (the bottom of the import graph,
so every package can raise it) and re-exported here; this module adds the codes the data layer,
the built-in domains and the task sampler raise. ``docs/ERRORS.md`` lists every code.

Example::

    from advisor.errors import AdvisorError
    try:
        ds = load_dataset("train.csv", label="species")
    except AdvisorError as err:
        print(err.code, err.message)        # "dataset.single_class", "The label column ..."
"""

from __future__ import annotations

from meta_features.errors import (
    UNWRITABLE,
    AdvisorError,
    ConfigurationError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    define_code,
    known_codes,
)

__all__ = [
    "UNWRITABLE",
    "AdvisorError",
    "AdvisorWarning",
    "ConfigurationError",
    "ConflictError",
    "DatasetError",
    "InvalidInputError",
    "LimitExceededError",
    "NotFoundError",
    "TaskError",
    "define_code",
    "known_codes",
]


class DatasetError(InvalidInputError):
    """A user's dataset cannot be read or fails validation (HTTP 422)."""


class ConflictError(AdvisorError):
    """The request conflicts with what exists: a name taken, data still in use (HTTP 409)."""

    status = 409


class TaskError(InvalidInputError):
    """A few-shot task or split cannot be drawn from a dataset as asked (HTTP 422)."""


class AdvisorWarning(UserWarning):
    """Something the advisor worked around and the user should know (a damaged file set aside).

    The command line prints these as one ``warning: ...`` line on standard error.
    """


# -- files the advisor writes and reads back (``io.unwritable`` is in meta_features.errors) --
IO_ERROR = define_code(
    "io.error",
    "A file or folder could not be read or written; the message names the path and the "
    "operating system's reason.",
)


# -- reading files -------------------------------------------------------------------------
DATASET_NOT_FOUND = define_code("dataset.not_found", "The path does not exist.")
DATASET_EMPTY = define_code("dataset.empty", "The file or byte string is empty.")
DATASET_TOO_LARGE = define_code(
    "dataset.too_large", "The file is larger than the configured upload limit."
)
UNSUPPORTED_FORMAT = define_code(
    "dataset.unsupported_format", "The format could not be recognised or is not supported."
)
UNDECODABLE_TEXT = define_code(
    "dataset.undecodable_text", "A text file is binary or in no recognisable encoding."
)
MALFORMED = define_code(
    "dataset.malformed", "The file is corrupt or does not follow its format's syntax."
)
NO_HEADER = define_code(
    "dataset.no_header", "A delimited text file has no header row naming its columns."
)
NO_ROWS = define_code("dataset.no_rows", "The file has a header or structure but no examples.")
PICKLE_REFUSED = define_code(
    "dataset.pickle_refused",
    "An NPZ array holds Python objects, which would need pickle; pickle is never loaded.",
)
MISSING_ARRAY = define_code(
    "dataset.missing_array", "An NPZ file lacks the array named for features or labels."
)
SHAPE_MISMATCH = define_code(
    "dataset.shape_mismatch", "Arrays have inconsistent or unsupported shapes."
)
BAD_DTYPE = define_code("dataset.bad_dtype", "An array has a dtype the data layer cannot use.")
BAD_OPTION = define_code("dataset.bad_option", "An option passed to the loader is invalid.")
# -- labels and values ---------------------------------------------------------------------
NO_LABEL_COLUMN = define_code(
    "dataset.no_label_column", "The label column was not named or is not in the file."
)
MISSING_LABELS = define_code("dataset.missing_labels", "Some rows have no label.")
SINGLE_CLASS = define_code(
    "dataset.single_class", "The labels hold one class; a classifier needs at least two."
)
CLASS_TOO_SMALL = define_code(
    "dataset.class_too_small",
    "A class has fewer than 2 examples, too few to both fit and evaluate.",
)
NUMERIC_LABEL = define_code(
    "dataset.numeric_label",
    "The labels are many different numbers, some occurring once: a quantity to predict "
    "(regression), not classes.",
)
TOO_MANY_CLASSES = define_code(
    "dataset.too_many_classes", "There are more classes than the configured limit."
)
TOO_MANY_ROWS = define_code(
    "dataset.too_many_rows", "There are more rows than the configured limit."
)
TOO_MANY_COLUMNS = define_code(
    "dataset.too_many_columns", "There are more feature columns than the configured limit."
)
TOO_MANY_CELLS = define_code(
    "dataset.too_many_cells",
    "Rows times encoded feature columns exceed the configured limit on feature values.",
)
MISSING_VALUES = define_code(
    "dataset.missing_values", "Feature values are missing and the missing-value policy is 'error'."
)
NON_FINITE = define_code(
    "dataset.non_finite", "Features hold infinite values, or NaN where nothing can be imputed."
)
NO_FEATURES = define_code("dataset.no_features", "Apart from the label there is no feature column.")
ENCODING_MISMATCH = define_code(
    "dataset.encoding_mismatch",
    "A test or prediction file does not fit the training data's encoding (kind of data, "
    "a numeric column holding text).",
)
BAD_INSTANCES = define_code(
    "predict.bad_instances", "The rows to predict do not match the model's input."
)
PREDICT_BAD_FORMAT = define_code(
    "predict.bad_format",
    "Predictions are written as .csv, .tsv, .parquet, .json or .jsonl, chosen by the output "
    "file's suffix.",
)
# -- images and archives -------------------------------------------------------------------
BAD_LAYOUT = define_code(
    "dataset.bad_layout",
    "An image folder or zip is not laid out as one sub-folder of images per class.",
)
BAD_IMAGE = define_code(
    "dataset.bad_image", "A file in an image folder or zip is truncated or not a PNG/JPEG image."
)
IMAGE_TOO_LARGE = define_code(
    "dataset.image_too_large", "An image has more pixels than the configured limit."
)
MIXED_IMAGE_SIZES = define_code(
    "dataset.mixed_image_sizes", "Images differ in size and resizing is turned off."
)
UNSAFE_PATH = define_code(
    "dataset.unsafe_path",
    "A zip entry has an absolute path, a '..' component or is a link; nothing is extracted.",
)
ZIP_BOMB = define_code(
    "dataset.zip_bomb", "A zip entry's compression ratio exceeds the configured limit."
)
ZIP_TOO_LARGE = define_code(
    "dataset.zip_too_large",
    "A zip holds more entries or more uncompressed bytes than the configured limits.",
)
# -- built-in domains, tasks and splits ----------------------------------------------------
UNKNOWN_FAMILY = define_code("builtin.unknown_family", "There is no built-in family of that name.")
UNKNOWN_DOMAIN = define_code(
    "builtin.unknown_domain", "The built-in family has no domain of that name."
)
BUILTIN_BAD_OPTION = define_code(
    "builtin.bad_option", "An option of a built-in domain generator is invalid."
)
TASK_TOO_MANY_WAYS = define_code(
    "task.too_many_ways", "The task asks for more classes (ways) than the dataset offers."
)
TASK_NOT_ENOUGH_EXAMPLES = define_code(
    "task.not_enough_examples",
    "Too few classes have enough examples for the requested shots and queries.",
)
TASK_BAD_OPTION = define_code(
    "task.bad_option", "A task or split option is out of range (ways, shots, fractions…)."
)


# -- sources users build (the service's routes and ``advisor sources build-from``) ------------
SOURCE_EXISTS = define_code("source.exists", "A source of that name exists already.")
SOURCE_BAD_NAME = define_code(
    "source.bad_name",
    "A source name must be 2–40 characters of a-z, 0-9, '_' and '-', starting with a letter, "
    "and not one reserved for the built-in sources or the knowledge base's (synthetic-…).",
)
SOURCE_IN_USE = define_code(
    "source.in_use",
    "The source is still being built, or a run needs it (queued or running on it, or a "
    "succeeded run whose model starts from it); delete those runs first.",
)
SOURCE_BUILTIN = define_code("source.builtin", "A built-in source cannot be deleted.")


# -- building and evaluating a knowledge base (``kb.not_found|corrupt|busy``: advisor.kb.store) --
KB_EMPTY = define_code(
    "kb.empty", "Nothing of the grid has been measured at that path: there is no KB to write."
)
KB_INCOMPLETE = define_code(
    "kb.incomplete",
    "A build wrote its KB without every task of its grid; rerun the same command to measure "
    "the rest.",
)
KB_TOO_FEW_DOMAINS = define_code(
    "kb.too_few_domains",
    "Leave-one-domain-out evaluation needs a KB of at least 2 domains.",
)
