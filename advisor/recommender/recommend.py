"""From meta-features to a :class:`~advisor.schemas.Recommendation` with its explanation.

The **family** recommended is the family-choice model's (:mod:`advisor.recommender.choice`):
the family with the largest predicted lead over the *anchor* family — the family of the
learner with the best mean accuracy over the knowledge base — learned on those leads
themselves, from the inputs that cross-validation over whole domains shows to carry over to
new domains. The **variant** is chosen the same way within the family: the largest predicted
lead over the family's reference variant (its best record across the knowledge base). The
meta-model's predicted accuracies, intervals and the choice's P(best) are reported beside it.
The explanation holds:

* **runner-up** — the likeliest best family after the recommended one (P(best), then
  predicted accuracy); where it is at least as likely to be best, the summary says the two are
  level;
* **drivers** — the inputs that most favour the recommendation over the runner-up in the
  model that made it: each input of the family choice is set, in turn, to its median over the
  knowledge base, and the drop of the recommended family's predicted lead over the runner-up's
  is its effect (an occlusion attribution; Zeiler & Fergus 2014 did it with image patches);
  where the prior or a source mismatch decides, the same on the meta-model's predictions;
* **neighbours** — the nearest knowledge-base tasks in meta-feature space (each feature scaled
  by its median and interquartile range over the KB), with each family's measured accuracy;
* **track record** — how the family choice did on the knowledge-base tasks most like this
  one (the neighbourhood P(best) draws its errors from), each judged by regressors fitted
  without its domain: mean family regret and the share of best picks;
* **risks**, in plain language — negative transfer when the data lies far from the source,
  too few shots per class to fine-tune, imbalanced classes (``IMBALANCED``: accuracy then
  rewards the larger classes; balanced accuracy is the run's other metric), data outside the
  knowledge base's range, and a track record above ``UNSURE_REGRET`` points (with the
  runner-up check to measure both families).

**Out of range.** A task is outside the KB's range when its distance to its nearest KB task is
more than ``RANGE_FACTOR`` = 2 times the 99th percentile of the KB tasks' own nearest-neighbour
distances, or its number of classes or shots per class lies outside those the KB measured, or
it is a table from a source the KB never measured tables with. One KB task in a hundred lies
beyond that percentile by definition, so a task just past it is no more isolated than the KB's
own edge tasks. In the leave-one-domain-out evaluation, held-out tasks lay up to 1.9 times the
percentile away (synthetic tables up to 1.6), and there the family choice did better than the
prior (``python -m bench.advisor edge``). The
source rule is there because the KB's tables are synthetic, each measured with its own world's
source: a user's table, from any other source, is a real one. Measured as the advisor measures
tables (columns standardised, :data:`advisor.kb.runner.EXTRACT_CONFIG`), real tables lie among
the synthetic ones, many within the distance limit, and there the family choice did worse than
the prior (docs/BENCHMARKS.md, "The advice on real tables"). Out of range the meta-model would
be extrapolating, so a documented prior decides instead, by kind of data:

* **tables** → **scratch** (logistic regression). On small real tables a regularised linear
  model is the strong default: on scikit-learn's handwritten digits as a 64-column table, with a
  source built from the other classes, it was the best single learner at every number of shots
  from 2 to 20, and meta learning — the usual guidance's choice for few shots — the worst family
  (``python -m bench.advisor real``, docs/BENCHMARKS.md);
* **images** (or data of unknown kind), the usual guidance:

  * at most 5 examples in the smallest class → **meta** (ProtoNet): a metric learned across
    many tasks needs no training on the target;
  * otherwise, when the data lies no farther from the source (proxy A-distance) than the KB's
    median task of the same kind of data → **transfer** (fine-tuning): enough data to adapt
    features that fit;
  * otherwise → **scratch** (a small network on images; logistic regression where the kind is
    unknown): plenty of data far from the source, where transfer may hurt.

When the source cannot take the data at all, only scratch can run, and out of range the prior
still picks its variant. The report says so, and the predictions keep their intervals but are
marked as extrapolations.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pandas as pd

from advisor.kb.runner import FEATURE_PREFIX
from advisor.recommender.choice import FamilyChoice, occluded
from advisor.recommender.model import LOCAL_KIND, MetaModel, task_table
from advisor.schemas import (
    Driver,
    Explanation,
    Family,
    Neighbour,
    Prediction,
    Recommendation,
    TrackRecord,
)

FAMILY_ORDER = ("transfer", "meta", "hybrid", "scratch")
PRIOR_VARIANT = {"meta": "protonet", "transfer": "finetune", "scratch": "logreg"}
PRIOR_IMAGE_SCRATCH = "cnn"  # on images a small network, not a linear model on pixels
NEIGHBOURS = 5
DRIVERS = 3
FEW_SHOTS = 5
RANGE_FACTOR = 2.0  # out of range: beyond this many times the KB's 99th-percentile NN distance
UNSURE_REGRET = 1.0  # points: the target for the mean regret, tasks like this one
IMBALANCED = 3.0
"""A risk is named when the largest class has at least this many times the examples of the
smallest (``imbalance_ratio``; 3 is a 75 / 25 split of two classes)."""
_CHOICE_INPUT_NAMES = {"log_shots": ("shots_min", True), "log_ways": ("nr_class", True)}


class Recommender:
    """A meta-model fitted on a knowledge base, ready to recommend (see the module docstring)."""

    def __init__(
        self,
        kb: pd.DataFrame,
        *,
        seed: int = 0,
        cache: Path | None = None,
        shipped: Path | None = None,
    ) -> None:
        self.seed = seed
        self.model = MetaModel.fit(kb, seed=seed, cache=cache, shipped=shipped)
        tuned = kb[kb["tuned"].astype(bool)] if "tuned" in kb.columns else kb.iloc[:0]
        self.tuned = tuned.reindex(columns=["task_id", "family", "variant", "params"]).dropna()
        self.tasks, self.accuracy = task_table(kb)
        means = self.accuracy.mean()
        anchor = means.index[int(np.nanargmax(means.to_numpy(dtype=np.float64)))]
        self.anchor = self.model.keys.index((str(anchor[0]), str(anchor[1])))
        self.families = [f for f in FAMILY_ORDER if any(k[0] == f for k in self.model.keys)]
        family_accuracy = self.accuracy.T.groupby(level=0).max().T[self.families]
        self.choice = FamilyChoice.fit(
            self.tasks,
            family_accuracy,
            str(anchor[0]),
            seed=seed,
            cache=cache,
            shipped=shipped,
            learner_accuracy=self.accuracy,
        )
        matrix = self.tasks[self.model.columns].to_numpy(dtype=np.float64)
        self.medians = np.nanmedian(matrix, axis=0)
        spread = np.nanquantile(matrix, 0.75, axis=0) - np.nanquantile(matrix, 0.25, axis=0)
        self.spreads = np.where(spread > 1e-12, spread, 1.0)
        self.scaled = self._scale(matrix)
        own = _pairwise(self.scaled, self.scaled)
        np.fill_diagonal(own, np.inf)
        self.edge = float(np.quantile(own.min(axis=1), 0.99))
        self.range_limit = RANGE_FACTOR * self.edge
        self.ways_range = (int(self.tasks["ways"].min()), int(self.tasks["ways"].max()))
        self.shots_range = (int(self.tasks["shots"].min()), int(self.tasks["shots"].max()))

    def _scale(self, matrix: np.ndarray) -> np.ndarray:
        scaled = (matrix - self.medians) / self.spreads
        return np.asarray(np.clip(np.nan_to_num(scaled, nan=0.0), -10.0, 10.0))

    # -- the recommendation -----------------------------------------------------------------

    def recommend(
        self,
        values: dict[str, float],
        *,
        source: str,
        modality: str | None = None,
        mismatch: str | None = None,
    ) -> Recommendation:
        """The recommendation for a task with these meta-feature ``values`` (by name).

        ``modality`` (``image`` or ``vector``) is the kind of data, an input of the family
        choice (unknown if ``None``). ``mismatch`` says why the source cannot take this data
        at all (images against a vector source, vectors of another width…): then only
        ``scratch`` can run, and it is recommended whatever the predictions, with the reason
        as the first risk.
        """
        start = time.perf_counter()
        x = self.model.features(values)
        predicted = self.model.predict(x)[0]
        low, high = (bound[0] for bound in self.model.intervals(predicted[None, :]))
        per_family = self._per_family(predicted, low, high)
        distances = self._distances(x, modality)  # to every KB task of its kind
        outside = self._out_of_range(distances, values) + self._unmeasured_source(
            source, modality, taken=mismatch is None
        )
        in_range = not outside
        row = self._row(values, modality)
        leads = self.choice.leads(row).iloc[0]
        p_best = self.choice.p_best(row, seed=self.seed)
        fallback = None if in_range else self._prior(values, modality)
        if mismatch is not None:
            family = "scratch"
            if fallback is None:
                variant = self.choice.choose_variant(row, family)[0]
            else:  # the family is forced, but out of range the prior still picks the variant
                variant = _prior_variant(family, modality)
                fallback = (
                    family,
                    variant,
                    f"Outside the knowledge base's range: the prior rule chose {variant} for "
                    "scratch, the only family that can run.",
                )
            p_best = np.array([1.0 if f == "scratch" else 0.0 for f in self.families])
        elif fallback is not None:
            family, variant = fallback[0], fallback[1]
        else:
            family = str(leads.idxmax())
            variant = self.choice.choose_variant(row, family)[0]
        chance = {f: float(p) for f, p in zip(self.families, p_best, strict=True)}
        # With a source mismatch only scratch can run: no other family is a runner-up.
        runner_up = None if mismatch else self._runner_up(family, chance, per_family)
        decided_by_choice = fallback is None and mismatch is None
        record = self.choice.track_record(row) if decided_by_choice else None
        key = (family, variant)
        chosen = (  # the learner that will run; its family's best-predicted if not modelled
            _prediction(self.model.keys, self.model.keys.index(key), predicted, low, high)
            if key in self.model.keys
            else per_family[family]
        )
        explanation = Explanation(
            summary=self._summary(
                key,
                runner_up,
                per_family,
                p_best=p_best,
                fallback=fallback,
                chosen=chosen,
            )
            + (
                self._choice_note(row, key, leads)
                + self._level_note(family, runner_up, chance, leads)
                if decided_by_choice and runner_up is not None
                else ""
            ),
            drivers=self._explanation_drivers(x, row, family, runner_up, decided_by_choice),
            neighbours=self._neighbours(distances),
            risks=([mismatch] if mismatch else [])
            + self._risks(
                values,
                per_family,
                outside,
                modality=modality,
                prior_chose=None if fallback is None else "variant" if mismatch else "family",
            )
            + _record_risk(record, runner_up),
            in_range=in_range,
            fallback=None if fallback is None else fallback[2],
            runner_up=runner_up,
            track_record=record,
        )
        return Recommendation(
            family=family,
            variant=variant,
            # the recommended family's row is the learner that will run, not its best-predicted
            predicted={**per_family, family: chosen},
            p_best=chance,
            meta_features={k: (None if _missing(v) else float(v)) for k, v in values.items()},
            explanation=explanation,
            source=source,
            seconds=time.perf_counter() - start,
            modality=modality if modality in ("image", "vector") else None,
            runnable=["scratch"] if mismatch else list(get_args(Family)),
        )

    def _per_family(
        self, predicted: np.ndarray, low: np.ndarray, high: np.ndarray
    ) -> dict[str, Prediction]:
        result = {}
        for family in self.families:
            columns = [j for j, key in enumerate(self.model.keys) if key[0] == family]
            best = max(columns, key=lambda j: predicted[j])
            result[family] = _prediction(self.model.keys, best, predicted, low, high)
        return result

    def _runner_up(
        self, family: str, chance: dict[str, float], per_family: dict[str, Prediction]
    ) -> str:
        """The likeliest best family after ``family``: P(best), then predicted accuracy."""
        others = [f for f in self.families if f != family]
        return max(others, key=lambda f: (round(chance[f], 3), per_family[f].accuracy))

    def _row(self, values: dict[str, float], modality: str | None) -> pd.DataFrame:
        """One task row (``mf.`` columns and ``modality``) for the family choice."""
        row = {FEATURE_PREFIX + k.removeprefix(FEATURE_PREFIX): v for k, v in values.items()}
        return pd.DataFrame([{**row, "modality": modality}])

    def _choice_note(self, row: pd.DataFrame, choice: tuple[str, str], leads: pd.Series) -> str:
        """Why the choice fell on ``choice``: predicted leads over the references, in points."""
        (family, variant), anchor = choice, self.choice.anchor
        text = f" Chosen on {self.choice.feature_set}: "
        others = leads.drop(anchor)
        others = others[np.isfinite(others)]
        if family == anchor and others.empty:
            text += f"no other family has a record to compare with {anchor}"
        elif family == anchor:
            rival = str(others.idxmax())
            text += (
                f"no family is predicted to beat {anchor} on tasks like this one (closest: "
                f"{rival}, {100 * others[rival]:+.1f} points)"
            )
        else:
            text += f"{family} is predicted to lead {anchor} by {100 * leads[family]:+.1f} points"
        reference = self.choice.references.get(family, variant)
        if variant != reference:
            lead = float(self.choice.variant_leads(row, family)[variant].iloc[0])
            text += f"; {variant} to lead {reference} by {100 * lead:+.1f}"
        return text + "."

    def _level_note(
        self, family: str, runner_up: str, chance: dict[str, float], leads: pd.Series
    ) -> str:
        """A warning where P(best) does not separate the recommendation from the runner-up.

        The choice takes the largest predicted lead, P(best) adds the errors of similar KB
        tasks to the leads: where the runner-up is at least as likely to be best, the two are
        level within the choice's accuracy on such tasks, and the user should hear it.
        """
        if chance[runner_up] < chance[family]:
            return ""
        gap = 100 * float(leads[family] - leads[runner_up])
        return (
            f" {runner_up} is as likely to be the best family ({chance[runner_up]:.0%} against "
            f"{chance[family]:.0%}; predicted leads {gap:+.1f} points apart): on tasks like this "
            "one the two are level, so either should do; a run with the runner-up check "
            "(--check-runner-up, check_runner_up=True) measures both on your data."
        )

    # -- range and prior --------------------------------------------------------------------

    def _distances(self, x: np.ndarray, modality: str | None) -> np.ndarray:
        """The task's distance to every KB task; infinite to tasks of another kind of data.

        A table is judged among tables and an image task among image tasks, however near
        the other kind's meta-features (on the shipped KB a task's nearest neighbour of
        another domain is always of its own kind); with the kind unknown, or none of its kind
        measured, among all tasks.
        """
        distances = _pairwise(self._scale(x), self.scaled)[0]
        if modality is not None and "modality" in self.tasks.columns:
            same = (self.tasks["modality"] == modality).to_numpy()
            if same.any():
                distances = np.where(same, distances, np.inf)
        return np.asarray(distances, dtype=np.float64)

    def _out_of_range(self, distances: np.ndarray, values: dict[str, float]) -> list[str]:
        """Why the task lies outside the KB's range, a phrase each (``[]``: inside it).

        Too far from every KB task, or more classes or examples per class than the KB measured
        (module docstring, "Out of range").
        """
        reasons = []
        distance = float(distances.min())
        if distance > self.range_limit:
            reasons.append(
                f"its nearest measured task lies at distance {distance:.1f}, beyond "
                f"{self.range_limit:.1f} ({RANGE_FACTOR:g} × the {self.edge:.1f} within which "
                "99 % of the knowledge base's own tasks have a neighbour)"
            )
        for name, what, (low, high) in (
            ("nr_class", "classes", self.ways_range),
            ("shots_median", "examples per class (median)", self.shots_range),
        ):
            value = _get(values, name)
            if not math.isnan(value) and not low <= value <= high:
                reasons.append(f"{value:g} {what}, where it measured {low} to {high}")
        return reasons

    def _unmeasured_source(
        self, source: str, modality: str | None, *, taken: bool = True
    ) -> list[str]:
        """Why a table from ``source`` lies outside the KB's range (``[]``: it does not).

        The knowledge base's tables are synthetic, each measured with its own world's source
        (module docstring, "Out of range"): a table from any other source is a real one, which
        its evidence does not cover. Tasks of this installation's own runs do not count, and a
        KB that holds no task known to be a table leaves the question to the distance.
        ``taken=False`` when the source cannot take the table at all (an image source): the
        reason then says the table has no source, not that it comes from this one.
        """
        if modality != "vector":
            return []
        tables = self.tasks[
            (self.tasks["modality"] == "vector") & (self.tasks["kind"] != LOCAL_KIND)
        ]
        measured = sorted(set(tables["source"].astype(str)))
        if not measured or source in measured:
            return []
        origin = (
            f"from the source {source!r}" if taken else f"that the source {source!r} cannot take"
        )
        return [
            f"it is a table {origin}, and the knowledge base's tables are "
            f"synthetic ones measured with their own sources ({', '.join(measured)})"
        ]

    def _source_distances(self, modality: str | None) -> tuple[np.ndarray, str]:
        """The KB tasks' proxy A-distances to their source, and which tasks they are.

        How far a task lies from its source depends on the kind of data (a domain classifier
        tells glyph scripts apart more easily than shifted tables), so a task is placed among
        the KB's tasks of its own kind (the words say so: `` of the same kind of data``); with
        the kind unknown, or none of that kind measured, among all of them (``""``).
        """
        column = self.tasks.get(FEATURE_PREFIX + "proxy_a_distance")
        if column is None:
            return np.array([np.nan]), ""
        if modality is not None and "modality" in self.tasks.columns:
            own = column[self.tasks["modality"] == modality]
            if own.notna().any():
                return own.to_numpy(dtype=np.float64), " of the same kind of data"
        return column.to_numpy(dtype=np.float64), ""

    def _prior(self, values: dict[str, float], modality: str | None) -> tuple[str, str, str]:
        """The documented prior's family, variant and sentence (module docstring)."""
        if modality == "vector":
            family = "scratch"
            reason = "a table, where a regularised linear model is the strong default on small data"
        else:
            family, reason = self.usual_guidance(values, modality)
        return (
            family,
            _prior_variant(family, modality),
            f"Outside the knowledge base's range: the prior rule chose {family} ({reason}).",
        )

    def usual_guidance(self, values: dict[str, float], modality: str | None) -> tuple[str, str]:
        """The usual guidance's family, and why: the prior for images (module docstring)."""
        shots = _get(values, "shots_min")
        distance = _get(values, "proxy_a_distance")
        distances, kind = self._source_distances(modality)
        typical = float(np.nanmedian(distances)) if np.isfinite(distances).any() else math.nan
        median = f"the knowledge base's median task{kind}"
        if not math.isnan(shots) and shots <= FEW_SHOTS:
            return "meta", "at most 5 examples in the smallest class"
        near = math.isnan(distance) or math.isnan(typical) or distance <= typical
        return (
            "transfer" if near else "scratch",
            f"more than 5 examples per class, and a source {'no ' if near else ''}farther "
            f"than {median}",
        )

    # -- explanation ------------------------------------------------------------------------

    def _lead(self, rows: np.ndarray, family: str, runner_up: str) -> np.ndarray:
        predicted = self.model.predict(rows)
        best = {
            f: predicted[:, [j for j, k in enumerate(self.model.keys) if k[0] == f]].max(axis=1)
            for f in (family, runner_up)
        }
        return np.asarray(best[family] - best[runner_up])

    def _drivers(self, x: np.ndarray, family: str, runner_up: str) -> list[Driver]:
        lead = self._lead(x, family, runner_up)[0]
        effects = lead - self._lead(occluded(x, self.medians), family, runner_up)
        order = np.argsort(-effects)[:DRIVERS]
        return [
            Driver(
                name=self.model.columns[j].removeprefix(FEATURE_PREFIX),
                value=None if _missing(x[0, j]) else float(x[0, j]),
                typical=None if _missing(self.medians[j]) else float(self.medians[j]),
                effect=float(100 * effects[j]),
            )
            for j in order
            if effects[j] > 0
        ]

    def _explanation_drivers(
        self,
        x: np.ndarray,
        row: pd.DataFrame,
        family: str,
        runner_up: str | None,
        decided_by_choice: bool,
    ) -> list[Driver]:
        """The drivers of the model that decided: the family choice's, else the meta-model's.

        None without a runner-up (only scratch could run: nothing was weighed against it).
        """
        if runner_up is None:
            return []
        if decided_by_choice:
            return self._choice_drivers(row, family, runner_up)
        return self._drivers(x, family, runner_up)

    def _choice_drivers(self, row: pd.DataFrame, family: str, runner_up: str) -> list[Driver]:
        """The family choice's inputs that most favour ``family`` over ``runner_up``.

        The choice decided, so its inputs are what drove the decision (occlusion on the
        choice, :meth:`FamilyChoice.occlusion`); the derived inputs are shown in their own
        units: ``shots_min`` and ``nr_class`` for the logarithms the choice reads, ``image``
        1 for images and 0 for vectors.
        """
        effects = self.choice.occlusion(row, family, runner_up)
        effects = effects[effects["effect"] > 0].sort_values("effect", ascending=False)
        drivers = []
        for name, (raw, median, effect) in effects.head(DRIVERS).iterrows():
            shown, unlog = _CHOICE_INPUT_NAMES.get(str(name), (str(name), False))
            value, typical = (_exp(raw), _exp(median)) if unlog else (raw, median)
            drivers.append(
                Driver(
                    name=shown,
                    value=None if _missing(float(value)) else float(value),
                    typical=None if _missing(float(typical)) else float(typical),
                    effect=float(100 * effect),
                )
            )
        return drivers

    def _neighbours(self, distances: np.ndarray) -> list[Neighbour]:
        """The nearest KB tasks, given the distances to those of its kind (:meth:`_distances`).

        A table's evidence, and the configurations that warm-start its run, come from tables.
        """
        result = []
        for index in np.argsort(distances)[:NEIGHBOURS]:
            if not np.isfinite(distances[index]):
                break
            task = self.tasks.iloc[index]
            measured = self.accuracy.iloc[index]
            result.append(
                Neighbour(
                    task_id=str(self.tasks.index[index]),
                    domain=str(task["domain"]),
                    ways=int(task["ways"]),
                    shots=int(task["shots"]),
                    distance=float(distances[index]),
                    accuracy={  # the families measured there (own runs measure two)
                        f: float(measured[f].max())
                        for f in self.families
                        if np.isfinite(measured[f].max())
                    },
                )
            )
        return result

    def _risks(
        self,
        values: dict[str, float],
        per_family: dict[str, Prediction],
        outside: list[str],
        *,
        modality: str | None,
        prior_chose: str | None,
    ) -> list[str]:
        risks = []
        far = _get(values, "proxy_a_distance")
        distances, kind = self._source_distances(modality)
        if (
            np.isfinite(distances).any()
            and not math.isnan(far)
            and far > float(np.nanquantile(distances, 0.9))
        ):
            risks.append(
                "Negative transfer: your data lies farther from the source than 90 % of the "
                f"knowledge base's tasks{kind} (proxy A-distance {far:.2f}); "
                "features learned on the source may mislead a fine-tuned model. Compare with "
                "the scratch family."
            )
        if (
            "transfer" in per_family
            and "scratch" in per_family
            and (per_family["scratch"].accuracy > per_family["transfer"].accuracy)
        ):
            risks.append(
                "Starting from the source is predicted to do worse than training from scratch "
                "on this data — a sign of negative transfer."
            )
        shots = _get(values, "shots_min")
        if not math.isnan(shots) and shots <= 2:
            validation = (
                "tuning can only validate on augmented copies of the examples"
                if shots < 2
                else "tuning validates on 2 folds, each holding one of them out, so its scores "
                "are noisy"
            )
            risks.append(
                f"Only {int(shots)} example(s) in the smallest class: fine-tuning a whole network "
                f"on so few overfits easily, and {validation}."
            )
        imbalance = _get(values, "imbalance_ratio")
        if not math.isnan(imbalance) and imbalance >= IMBALANCED:
            risks.append(
                f"The classes are imbalanced: the largest has {imbalance:.1f} times the examples "
                "of the smallest. Accuracy rewards predicting the larger classes, and the "
                "predictions here are accuracies on class-balanced tasks. If every class matters, "
                "tune for balanced accuracy, the mean of the classes' recalls "
                "(`advisor run --metric balanced_accuracy`; the service's `metric`)."
            )
        if outside:
            risks.append(
                f"Your data lies outside the range of the knowledge base ({'; '.join(outside)}): "
                "the predictions are extrapolations"
                + (f" and a documented prior chose the {prior_chose}." if prior_chose else ".")
            )
        return risks

    def _summary(
        self,
        choice: tuple[str, str],
        runner_up: str | None,
        per_family: dict[str, Prediction],
        *,
        p_best: np.ndarray,
        fallback: tuple[str, str, str] | None,
        chosen: Prediction,
    ) -> str:
        """The recommendation in one paragraph (``chosen``: the recommended learner's own)."""
        family, variant = choice
        probability = float(p_best[self.families.index(family)])
        against = (
            ""
            if runner_up is None
            else f", {100 * (chosen.accuracy - per_family[runner_up].accuracy):+.1f} points "
            f"against {runner_up}"
        )
        text = (
            f"{family} ({variant}) is predicted to reach {chosen.accuracy:.0%} accuracy "
            f"(80 % interval {chosen.low:.0%}–{chosen.high:.0%}){against}; "
            f"probability of being the best family: {probability:.0%}."
        )
        return text if fallback is None else f"{fallback[2]} {text}"


def _prior_variant(family: str, modality: str | None) -> str:
    """The prior's variant of ``family``: a small network for scratch on images."""
    if family == "scratch" and modality == "image":
        return PRIOR_IMAGE_SCRATCH
    return PRIOR_VARIANT[family]


def _prediction(
    keys: list[tuple[str, str]], j: int, predicted: np.ndarray, low: np.ndarray, high: np.ndarray
) -> Prediction:
    """Learner ``j``'s prediction with its interval."""
    return Prediction(
        accuracy=float(predicted[j]), low=float(low[j]), high=float(high[j]), variant=keys[j][1]
    )


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None, :] - 2 * a @ b.T
    return np.asarray(np.sqrt(np.maximum(squared, 0.0)))


def _get(values: dict[str, Any], name: str) -> float:
    value = values.get(name, values.get(FEATURE_PREFIX + name))
    return float("nan") if value is None else float(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _exp(value: float) -> float:
    """``e**value`` rounded to 6 decimals (a count read back from its logarithm)."""
    return round(math.exp(value), 6)


def _record_risk(record: TrackRecord | None, runner_up: str | None) -> list[str]:
    """A risk when the choice lost more than ``UNSURE_REGRET`` points on tasks like this one."""
    if record is None or record.mean_regret <= UNSURE_REGRET:
        return []
    check = (
        f" A run with the runner-up check (--check-runner-up, check_runner_up=True) also "
        f"measures {runner_up} on your data."
        if runner_up
        else ""
    )
    return [
        "The pick is less sure on data like yours: on similar knowledge-base tasks the family "
        f"choice lost {record.mean_regret:.1f} points on average and picked a best family on "
        f"{100 * record.best_share:.0f} % of them.{check}"
    ]
