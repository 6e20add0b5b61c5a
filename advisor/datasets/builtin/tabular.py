r"""The ``tabular`` family: small real vector datasets and a seeded synthetic shift benchmark.

Real domains (scikit-learn's bundled copies, read offline; labels are the target names):

- ``iris``: Fisher (1936), 150 flowers, 4 features, 3 classes;
- ``wine``: Forina et al., UCI Wine, 178 wines, 13 features, 3 classes;
- ``breast_cancer``: Street, Wolberg & Mangasarian (1993), UCI WDBC, 569 tumours,
  30 features, 2 classes.

Their rows are fixed; the load ``seed`` only permutes the row order deterministically, and the
synthetic options below are refused for them.

The synthetic domains ``synthetic_source``, ``synthetic_covariate``, ``synthetic_concept`` and
``synthetic_both`` are presets (covariate shift ``s``, concept shift ``c``) of the seeded world of
:mod:`advisor.datasets.builtin.synthetic`, where their definition lives; every option of
:class:`TabularOptions` can override them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from advisor import errors
from advisor.datasets.builtin.base import BuiltinFamily, DomainCard, FamilyOptions
from advisor.datasets.builtin.synthetic import (
    MAX_COVARIATE_SHIFT,
    numbered,
    sample_synthetic,
    synthetic_world,
)
from advisor.datasets.dataset import Dataset, Provenance, make_dataset
from advisor.errors import ConfigurationError, LimitExceededError
from advisor.settings import get_settings

__all__ = ["TabularFamily", "TabularOptions"]

_SKLEARN_DOMAINS: dict[str, str] = {
    "iris": "Fisher's iris flowers: 150 rows, 4 measurements, 3 species.",
    "wine": "UCI wine recognition: 178 wines, 13 chemical measurements, 3 cultivars.",
    "breast_cancer": "UCI breast cancer Wisconsin (diagnostic): 569 tumours, 30 features, "
    "malignant or benign.",
}
# domain -> (covariate shift s, concept shift c)
_SYNTHETIC_PRESETS: dict[str, tuple[float, float]] = {
    "synthetic_source": (0.0, 0.0),
    "synthetic_covariate": (1.0, 0.0),
    "synthetic_concept": (0.0, 0.5),
    "synthetic_both": (1.0, 0.5),
}


class TabularOptions(FamilyOptions):
    """Options of the ``tabular`` family; they apply to the ``synthetic_*`` domains only."""

    family_seed: int = Field(0, ge=0, description="Seed of the world: teacher and shift map.")
    n_features: int = Field(20, ge=2, le=1000, description="Input dimension D.")
    n_classes: int = Field(10, ge=2, le=100, description="Number of classes K.")
    examples_per_class: int = Field(50, ge=2, le=10_000, description="Rows kept per class.")
    covariate_shift: float | None = Field(
        None,
        ge=0.0,
        le=MAX_COVARIATE_SHIFT,
        description="Covariate shift s (None: the domain's preset).",
    )
    concept_shift: float | None = Field(
        None, ge=0.0, le=1.0, description="Concept shift c (None: the domain's preset)."
    )
    noise: float = Field(
        0.0, ge=0.0, allow_inf_nan=False, description="Std of Gaussian feature noise."
    )


class TabularFamily(BuiltinFamily):
    """Vector data: iris, wine and breast cancer, and the seeded synthetic shift benchmark."""

    name: ClassVar[str] = "tabular"
    options_model: ClassVar[type[FamilyOptions]] = TabularOptions

    def domains(self) -> list[str]:
        """The real domains, then the synthetic source and its three targets."""
        return [*_SKLEARN_DOMAINS, *_SYNTHETIC_PRESETS]

    def card(self, domain: str) -> DomainCard:
        """The card of ``domain`` with the default options."""
        self.check_domain(domain)
        if domain in _SKLEARN_DOMAINS:
            x, y, _ = _sklearn_table(domain)
            counts = np.unique(y, return_counts=True)[1]
            shots = int(counts[0]) if np.all(counts == counts[0]) else None
            return self._card(domain, len(counts), shots, x.shape[1], _SKLEARN_DOMAINS[domain])
        defaults = TabularOptions()
        shift, concept = _SYNTHETIC_PRESETS[domain]
        description = (
            f"Seeded synthetic teacher-labelled vectors; covariate shift {shift:g} and concept "
            f"shift {concept:g} from synthetic_source."
        )
        return self._card(
            domain,
            defaults.n_classes,
            defaults.examples_per_class,
            defaults.n_features,
            description,
        )

    def _card(
        self, domain: str, n_classes: int, shots: int | None, n_features: int, description: str
    ) -> DomainCard:
        return DomainCard(
            family=self.name,
            domain=domain,
            modality="vector",
            n_classes=n_classes,
            examples_per_class=shots,
            input_shape=(n_features,),
            description=description,
        )

    def _load(self, domain: str, *, seed: int, options: TabularOptions) -> Dataset:
        if domain in _SKLEARN_DOMAINS:
            _refuse_options(domain, options)
            x, y, names = _sklearn_table(domain)
            order = np.random.default_rng(np.random.SeedSequence(seed)).permutation(y.size)
            return self._dataset(domain, x[order], y[order], names)
        x, codes = _load_synthetic(domain, seed=seed, options=options)
        labels = np.asarray(numbered("c", options.n_classes))[codes]
        return self._dataset(domain, x, labels, numbered("f", options.n_features))

    def _dataset(self, domain: str, x: np.ndarray, y: np.ndarray, names: list[str]) -> Dataset:
        return make_dataset(
            x,
            y,
            modality="vector",
            groups=None,
            feature_names=names,
            provenance=Provenance(name=f"{self.name}/{domain}", format="builtin"),
        )


# -- the real datasets -----------------------------------------------------------------------


@lru_cache(maxsize=len(_SKLEARN_DOMAINS))
def _sklearn_table(domain: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (float64), string labels and feature names of a bundled dataset, read-only."""
    import sklearn.datasets  # noqa: PLC0415 (seconds to import; here only)

    bunch: Any = getattr(sklearn.datasets, f"load_{domain}")()
    x = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target_names)[bunch.target].astype(str)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y, [str(n) for n in bunch.feature_names]


def _refuse_options(domain: str, options: TabularOptions) -> None:
    if options.model_fields_set:
        raise ConfigurationError(
            f"The options {', '.join(sorted(options.model_fields_set))} apply to the synthetic "
            f"domains only ({', '.join(_SYNTHETIC_PRESETS)}); tabular/{domain} is a fixed "
            "dataset that takes no option.",
            code=errors.BUILTIN_BAD_OPTION,
            domain=domain,
            options=sorted(options.model_fields_set),
        )


# -- the synthetic world ---------------------------------------------------------------------


# -- class-balanced sampling -----------------------------------------------------------------


def _load_synthetic(
    domain: str, *, seed: int, options: TabularOptions
) -> tuple[np.ndarray, np.ndarray]:
    preset_shift, preset_concept = _SYNTHETIC_PRESETS[domain]
    _check_size(options)
    world = synthetic_world(options.family_seed, options.n_features, options.n_classes)
    return sample_synthetic(
        world,
        seed=seed,
        covariate_shift=_preset(options.covariate_shift, preset_shift),
        concept_shift=_preset(options.concept_shift, preset_concept),
        examples_per_class=options.examples_per_class,
        noise=options.noise,
    )


def _check_size(options: TabularOptions) -> None:
    """Refuse, before drawing, a sample larger than the configured ``max_cells``."""
    cells = options.n_classes * options.examples_per_class * options.n_features
    limit = get_settings().data_limits().max_cells
    if cells > limit:
        raise LimitExceededError(
            f"n_classes x examples_per_class x n_features = {cells} feature values; the limit "
            f"is {limit} (setting ADVISOR_MAX_CELLS).",
            code=errors.TOO_MANY_CELLS,
            cells=cells,
            limit=limit,
        )


# -- small helpers ---------------------------------------------------------------------------


def _preset(value: float | None, preset: float) -> float:
    return preset if value is None else float(value)
