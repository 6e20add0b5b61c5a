"""The knowledge base: measured runs of every learner on many few-shot tasks.

* :mod:`advisor.kb.domains` — where tasks come from, and the sources they are measured against;
* :mod:`advisor.kb.grid` — which tasks (:class:`TaskSpec`, :func:`default_grid`);
* :mod:`advisor.kb.runner` — measuring one task;
* :mod:`advisor.kb.build` — measuring a grid in parallel, resumably;
* :mod:`advisor.kb.store` — the versioned file with its provenance, and the shipped KB;
* :mod:`advisor.kb.evaluate` — leave-one-domain-out evaluation of the recommender;
* :mod:`advisor.kb.noise` — the regret that measurement noise alone costs (a floor).
"""

from advisor.kb.build import build_kb
from advisor.kb.grid import TaskSpec, default_grid
from advisor.kb.store import read_kb

__all__ = ["TaskSpec", "build_kb", "default_grid", "read_kb"]
