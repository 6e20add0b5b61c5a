"""What every built-in benchmark family provides: named domains and a seeded loader."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from advisor import errors
from advisor.datasets.dataset import Dataset, Modality
from advisor.errors import ConfigurationError, NotFoundError


class DomainCard(BaseModel):
    """A short description of one built-in domain, for listings and docs."""

    model_config = ConfigDict(frozen=True)

    family: str
    domain: str
    modality: Modality
    n_classes: int
    examples_per_class: int | None
    input_shape: tuple[int, ...]
    description: str


class FamilyOptions(BaseModel):
    """Base of each family's loader options; unknown options are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BuiltinFamily(ABC):
    """A family of built-in domains (``glyphs``, ``digits``, ``tabular``).

    Subclasses set ``name`` and ``options_model`` and implement :meth:`domains`,
    :meth:`card` and :meth:`_load`. Loading is deterministic: the same domain, seed and
    options give the same arrays, byte for byte.
    """

    name: ClassVar[str]
    options_model: ClassVar[type[FamilyOptions]] = FamilyOptions

    @abstractmethod
    def domains(self) -> list[str]:
        """The family's domain names, in a stable order."""

    @abstractmethod
    def card(self, domain: str) -> DomainCard:
        """The description of one domain with default options."""

    @abstractmethod
    def _load(self, domain: str, *, seed: int, options: Any) -> Dataset:
        """Build the dataset of ``domain`` (already checked to exist) with parsed options."""

    def load(self, domain: str, *, seed: int = 0, **options: Any) -> Dataset:
        """The dataset of ``domain``; ``options`` are validated by :attr:`options_model`.

        Raises:
            NotFoundError: ``builtin.unknown_domain``.
            ConfigurationError: ``builtin.bad_option`` for an invalid or unknown option.
        """
        self.check_domain(domain)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigurationError(
                f"seed must be a non-negative integer, got {seed!r}.",
                code=errors.BUILTIN_BAD_OPTION,
            )
        try:
            parsed = self.options_model(**options)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
            )
            raise ConfigurationError(
                f"Invalid options for {self.name}/{domain}: {problems}",
                code=errors.BUILTIN_BAD_OPTION,
            ) from None
        return self._load(domain, seed=seed, options=parsed)

    def check_domain(self, domain: str) -> None:
        """Raise ``builtin.unknown_domain`` unless ``domain`` belongs to this family."""
        known = self.domains()
        if domain not in known:
            raise NotFoundError(
                f"The built-in family {self.name!r} has no domain {domain!r}; "
                f"it has: {', '.join(known)}.",
                code=errors.UNKNOWN_DOMAIN,
                family=self.name,
                domain=domain,
            )
