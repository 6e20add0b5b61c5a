"""The knowledge base's edge: held-out tasks past the 99th-percentile neighbour distance.

    .venv/bin/python -m bench.advisor edge       # about 50 minutes in one process (--workers 2)

For every domain of the shipped knowledge base, a recommender is fitted on the other domains
(as in the leave-one-domain-out evaluation) and each held-out task's distance to its nearest
KB task is measured in units of the fold's *edge*, the 99th percentile of the KB tasks' own
nearest-neighbour distances. For the tasks past the edge it prints that ratio and the family
regret (points) of what could decide there: the family choice, the prior for their kind of
data, and the usual guidance (at most 5 shots → meta; more, with the source no farther than
the KB's median task of the same kind → transfer; else scratch). A task is out of range past
``RANGE_FACTOR`` edges (:mod:`advisor.recommender.recommend`).
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from advisor.kb.evaluate import markdown
from advisor.kb.runner import FEATURE_PREFIX
from advisor.kb.store import read_kb
from advisor.recommender import Recommender, task_table


def _fold(held: str) -> list[dict[str, Any]]:
    kb = read_kb()
    with threadpool_limits(limits=1):
        recommender = Recommender(kb[kb["domain"] != held], seed=0)
    tasks, accuracy = task_table(kb[kb["domain"] == held])
    rows = []
    for position in range(len(tasks)):
        task = tasks.iloc[position]
        values = {
            str(k).removeprefix(FEATURE_PREFIX): float(v)
            for k, v in task.items()
            if str(k).startswith(FEATURE_PREFIX)
        }
        x = recommender.model.features(values)
        modality = str(task["modality"])
        distance = float(recommender._distances(x, modality).min())  # to its nearest KB task
        if distance <= recommender.edge:
            continue
        family = accuracy.iloc[position].groupby(level=0).max()
        row = recommender._row(values, modality)
        picks = {
            "family choice": str(recommender.choice.leads(row).iloc[0].idxmax()),
            "prior": recommender._prior(values, modality)[0],
            "usual guidance": recommender.usual_guidance(values, modality)[0],
        }
        rows.append(
            {
                "domain": held,
                "modality": modality,
                "edges away": distance / recommender.edge,
                **{name: 100 * (family.max() - family[pick]) for name, pick in picks.items()},
            }
        )
    return rows


def run_edge(workers: int = 2) -> None:
    """Print the tasks past the edge, by kind of data (module docstring)."""
    domains = sorted(read_kb()["domain"].unique())
    with ProcessPoolExecutor(max_workers=workers) as pool:
        table = pd.DataFrame([row for part in pool.map(_fold, domains) for row in part])
    if table.empty:
        print("No held-out task lies past the edge.")
        return
    summary = table.groupby("modality").agg(
        tasks=("edges away", "size"),
        **{"edges away, least": ("edges away", "min")},
        **{"edges away, most": ("edges away", "max")},
        **{name: (name, "mean") for name in ("family choice", "prior", "usual guidance")},
    )
    print("Held-out tasks past the edge; family regret (points) of what could decide there:\n")
    print(markdown(summary.round(2).reset_index()))
