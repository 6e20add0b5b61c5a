"""The reseed bench's bookkeeping: which tasks it measures again, and how it pools the runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.reseed import OTHER_SEED, chosen_specs, predictive_check, replicates, residuals


def kb_rows() -> pd.DataFrame:
    rows = []
    for domain, count in (("tabular:0:synthetic_both", 3), ("glyphs:greek", 5)):
        for seed in range(count):
            rows.append(
                {
                    "task_id": f"{domain}/5w{seed + 1}s15q/s{seed}",
                    "domain": domain,
                    "source": "glyphs",
                    "kind": "cross",
                    "ways": 5,
                    "shots": seed + 1,
                    "queries": 15,
                    "seed": seed,
                }
            )
    return pd.DataFrame(rows)


def test_every_tabular_task_and_a_fixed_sample_of_image_tasks() -> None:
    specs = chosen_specs(kb_rows(), image_tasks=2)
    domains = [s.domain for s in specs]
    assert domains.count("tabular:0:synthetic_both") == 3 and domains.count("glyphs:greek") == 2
    assert [s.task_id for s in chosen_specs(kb_rows(), image_tasks=2)] == [
        s.task_id for s in specs
    ]  # the same sample every time
    assert len(chosen_specs(kb_rows(), image_tasks=50)) == 8  # no more than there are


def runs(second_shift: float) -> pd.DataFrame:
    rows = []
    for task in kb_rows().itertuples(index=False):
        for offset in (0, OTHER_SEED):
            for family, variant, accuracy in (
                ("transfer", "finetune", 0.8),
                ("meta", "protonet", 0.7),
            ):
                moved = second_shift if (offset and family == "transfer") else 0.0
                rows.append(
                    {
                        **task._asdict(),
                        "seed_offset": offset,
                        "family": family,
                        "variant": variant,
                        "accuracy": accuracy + moved * (-1) ** task.seed,
                    }
                )
    return pd.DataFrame(rows)


def test_the_runs_pair_up_and_pool_by_kind_band_and_learner() -> None:
    first, second = replicates(runs(0.02))
    assert first.shape == second.shape == (8, 2)
    pools = residuals(runs(0.02))
    # Greek has shots 1-5: bands 1-2 and 3-14; the tables shots 1-3: the same two bands.
    assert ("image", "1-2", "transfer", "finetune") in pools
    assert ("vector", "3-14", "meta", "protonet") in pools
    assert not np.any(pools[("image", "1-2", "meta", "protonet")])  # ProtoNet did not move
    z = pools[("image", "3-14", "transfer", "finetune")]
    assert z.size == 3 and np.all(np.abs(z) > 0)


def test_the_predictive_check_sees_no_regret_where_no_seed_moves_the_winner() -> None:
    check = predictive_check(runs(0.02), draws=20).set_index("kind")
    # Transfer leads by 10 points and moves by 2: the best family never changes.
    assert check.loc["image", "measured"] == pytest.approx(0.0)
    assert check.loc["vector", "predicted"] == pytest.approx(0.0)
    close = predictive_check(runs(-0.12), draws=200).set_index("kind")
    assert close.loc["image", "measured"] > 0 and close.loc["image", "predicted"] > 0
