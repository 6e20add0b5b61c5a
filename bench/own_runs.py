"""What learning this installation's own runs costs the next recommendation, and what it changes.

    .venv/bin/python -m bench.advisor learn --tasks 1     # about 3 minutes on 2 cores

A regret check (``advisor run --check-runner-up``) appends its two measured families to the
local knowledge base, and the next recommendation fits the recommender on the knowledge base
and those rows. This times that fit on the shipped knowledge base plus ``--tasks`` own runs, in
a cache that already holds the knowledge base's own fitted files (as after a first
recommendation), two ways:

* **one more held-out group** (what the recommender does): the knowledge base's grouped
  residuals and its choice of inputs are kept, the own runs are calibrated by the regressors
  fitted without them, and only the final regressors are fitted again
  (:mod:`advisor.recommender.model`, :mod:`advisor.recommender.choice`);
* **the whole knowledge base cross-validated again** (what it did before): the same rows with
  a kind other than ``local`` (and not marked as tuned), so that nothing marks them as own runs.

Each own run is a knowledge-base image task renamed as a regret check names its task
(``local/…``, domain ``local``), with the measured accuracies of two of its learners — the
anchor family's best variant and the best other family's — as if the check had measured
exactly those. It then compares what the two fits decide: the family choice's inputs, its
pick on every knowledge-base task, and the meta-model's 80 % interval offsets.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from advisor.kb.evaluate import markdown
from advisor.kb.store import SHIPPED, read_kb
from advisor.recommender import Recommender, task_table
from advisor.recommender.model import LOCAL_KIND
from advisor.settings import get_settings


def own_runs(kb: pd.DataFrame, tasks: int) -> pd.DataFrame:
    """``tasks`` regret-check outcomes made from the knowledge base's image tasks."""
    table, accuracy = task_table(kb)
    family = accuracy.T.groupby(level=0).max().T
    anchor = str(family.mean().idxmax())
    images = table.index[table["modality"] == "image"][:: max(1, len(table) // (4 * tasks))]
    rows = []
    for i, task_id in enumerate(images[:tasks]):
        rival = str(family.loc[task_id].drop(anchor).idxmax())
        measured = kb[kb["task_id"] == task_id]
        for name in (anchor, rival):
            of_family = measured[measured["family"] == name]
            best = of_family.loc[of_family["accuracy"].idxmax()]
            rows.append(
                {
                    **best.to_dict(),
                    "task_id": f"local/bench{i}",
                    "domain": "local",
                    "kind": LOCAL_KIND,
                    "tuned": True,
                }
            )
    return pd.DataFrame(rows)


def timed_fit(kb: pd.DataFrame, warm: Path) -> tuple[float, Recommender]:
    """Seconds to fit the recommender in a copy of the ``warm`` cache, and the recommender."""
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "recommender"
        shutil.copytree(warm, cache)
        start = time.perf_counter()
        recommender = Recommender(kb, cache=cache, shipped=SHIPPED.parent)
        return time.perf_counter() - start, recommender


def run_learn(tasks: int) -> None:
    kb = read_kb()
    warm = get_settings().cache_dir / "recommender"
    Recommender(kb, cache=warm, shipped=SHIPPED.parent)  # the KB's own files, as after first use
    own = own_runs(kb, tasks)
    alone, _ = timed_fit(kb, warm)
    grouped, now = timed_fit(pd.concat([kb, own], ignore_index=True), warm)
    again, before = timed_fit(
        pd.concat([kb, own.assign(kind="cross", tuned=False)], ignore_index=True), warm
    )
    runs = f"+ {tasks} own run{'s' if tasks > 1 else ''}"
    print(
        markdown(
            pd.DataFrame(
                [
                    ("the knowledge base alone, its files cached", alone),
                    (f"{runs}: one more held-out group (now)", grouped),
                    (f"{runs}: the whole KB cross-validated again (before)", again),
                ],
                columns=["fit of the recommender", "seconds"],
            ).round(2)
        )
    )
    table = now.tasks
    picks_now, picks_before = now.choice.choose(table), before.choice.choose(table)
    same = np.mean([a == b for a, b in zip(picks_now, picks_before, strict=True)])
    offsets = np.nanquantile(now.model.residuals, [0.1, 0.9], axis=0)
    earlier = np.nanquantile(before.model.residuals, [0.1, 0.9], axis=0)
    print()
    print(
        markdown(
            pd.DataFrame(
                [
                    (
                        "the family choice's inputs",
                        now.choice.feature_set,
                        before.choice.feature_set,
                    ),
                    ("its pick, same on the KB's tasks", f"{100 * same:.1f} %", ""),
                    (
                        "80 % interval offsets, largest difference (points)",
                        f"{100 * float(np.abs(offsets - earlier).max()):.2f}",
                        "",
                    ),
                ],
                columns=["compared", "now", "before"],
            )
        )
    )
