"""The tasks of the knowledge base: which few-shot problems the advisor learns from.

A :class:`TaskSpec` names a task completely — its source, the domain its classes come from,
ways, shots, queries and seed — so that anyone can draw the same task again
(:func:`~advisor.kb.domains.draw_task`).

:func:`default_grid` is the grid the shipped KB is built on:

* **domains** — the held-out classes of each of the ``glyphs`` source's scripts (in-domain),
  every other glyph script and the real handwritten digits (cross-domain, against the
  ``glyphs`` source), and the covariate-, concept- and both-shifted targets of four synthetic
  tabular worlds (against a source built on each world's unshifted data);
* **ways** 2, 3, 5, 10, 20 and **shots** 1, 2, 5, 10, 20, 50, every combination a domain can
  supply (enough classes, and ``shots + queries`` examples per class) with at most
  ``max_support`` support examples (larger tasks add cost, not information, to a
  *few*-shot knowledge base);
* **queries** as many per class as the domain's smallest class holds beyond the shots, up to
  ``max_queries`` — by default 60 for image domains (whose 70 rendered examples per class
  allow no more) and 300 for vector domains (drawn at will) — and at least ``queries`` = 15,
  which decides what is feasible; **seeds** ``0 … repeats − 1`` for every combination.

``max_queries=None`` measures every task on exactly ``queries`` query examples per class (the
first shipped KB, 15); a number caps every domain alike. The accuracy of a task measured on
``n`` query examples has a binomial standard error ``√(p(1 − p)/n)``, and that noise bounds how
well any recommender can be judged on the KB (:mod:`advisor.kb.noise`). A task drawn with more
queries has the *same* support set, hence the same meta-features and fits, and its query set
contains the smaller one's, since :func:`~advisor.datasets.sample_task` takes each class's
support first (on the same data: a synthetic domain drawn with more examples per class is
other data).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from advisor.kb.domains import KB_DOMAINS, DomainRef, domain_capacity

WAYS = (2, 3, 5, 10, 20)
SHOTS = (1, 2, 5, 10, 20, 50)
QUERIES = 15
MAX_QUERIES: Mapping[str, int] = {"image": 60, "vector": 300}


class TaskSpec(BaseModel):
    """One knowledge-base task, fully determined by its fields."""

    model_config = ConfigDict(frozen=True)

    domain: str
    source: str
    kind: str
    ways: int
    shots: int
    queries: int
    seed: int

    @property
    def task_id(self) -> str:
        """A stable identifier, e.g. ``glyphs:greek/5w1s15q/s0``."""
        return f"{self.domain}/{self.ways}w{self.shots}s{self.queries}q/s{self.seed}"


def default_grid(
    *,
    domains: Iterable[DomainRef] = KB_DOMAINS,
    ways: Iterable[int] = WAYS,
    shots: Iterable[int] = SHOTS,
    queries: int = QUERIES,
    repeats: int = 2,
    max_support: int = 250,
    max_queries: int | Mapping[str, int] | None = MAX_QUERIES,
) -> list[TaskSpec]:
    """Every feasible task of the grid (module docstring), in a stable order.

    ``max_queries`` is one cap for every domain, a cap per modality (``"image"``,
    ``"vector"``), or ``None`` for exactly ``queries`` per class.
    """
    caps: list[int] = []
    if isinstance(max_queries, Mapping):
        caps = list(max_queries.values())
    elif max_queries is not None:
        caps = [max_queries]
    if any(cap < queries for cap in caps):
        raise ValueError(f"max_queries ({max_queries}) is below queries ({queries})")
    specs = []
    for domain in domains:
        n_classes, per_class = domain_capacity(domain)
        cap = _query_cap(max_queries, domain)
        for n_ways in ways:
            for n_shots in shots:
                feasible = (
                    n_ways <= n_classes
                    and n_shots + queries <= per_class
                    and n_ways * n_shots <= max_support
                )
                if not feasible:
                    continue
                specs += [
                    TaskSpec(
                        domain=domain.name,
                        source=domain.source,
                        kind=domain.kind,
                        ways=n_ways,
                        shots=n_shots,
                        queries=queries if cap is None else min(cap, per_class - n_shots),
                        seed=seed,
                    )
                    for seed in range(repeats)
                ]
    return specs


def _query_cap(max_queries: int | Mapping[str, int] | None, domain: DomainRef) -> int | None:
    """The most query examples per class a task of ``domain`` is measured on."""
    if not isinstance(max_queries, Mapping):
        return max_queries
    return max_queries[domain.modality]
