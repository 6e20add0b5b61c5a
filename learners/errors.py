"""Error codes of the learners and sources (the classes are in :mod:`meta_features.errors`)."""

from __future__ import annotations

from meta_features.errors import (
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    define_code,
)

__all__ = ["ConfigurationError", "InvalidInputError", "NotFoundError"]

UNKNOWN_FAMILY = define_code("learners.unknown_family", "There is no learner family of that name.")
UNKNOWN_VARIANT = define_code(
    "learners.unknown_variant", "The learner family has no variant of that name."
)
BAD_PARAMETER = define_code(
    "learners.bad_parameter",
    "A hyper-parameter of a learner is out of range or of the wrong type; also a tuning budget "
    "no study can run on.",
)
NEEDS_SOURCE = define_code(
    "learners.needs_source", "The learner starts from a source, and none was given."
)
INPUT_MISMATCH = define_code(
    "learners.input_mismatch",
    "The data does not fit the source's or the fitted model's input spec (modality, shape or "
    "features), holds NaN or infinite values, or images that are not uint8 hold values outside "
    "[0, 1].",
)
NOT_FITTED = define_code("learners.not_fitted", "The learner must be fitted before predicting.")
BAD_TRAINING_DATA = define_code(
    "learners.bad_training_data",
    "The training data cannot train this learner (one class, too few examples for the episodes…).",
)
UNKNOWN_SOURCE = define_code("learners.unknown_source", "There is no source of that name or path.")
STUDY_MISMATCH = define_code(
    "learners.study_mismatch",
    "A study continued by name was tuning another family, other data or another metric.",
)
CORRUPT_FILE = define_code(
    "learners.corrupt_file",
    "A saved source or model fails its checksum or is not a file this version can read.",
)
