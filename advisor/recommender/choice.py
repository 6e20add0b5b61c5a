"""The family choice: each family's lead over the anchor family, from the task's descriptors.

The meta-model (:mod:`advisor.recommender.model`) predicts every learner's *accuracy*. Most of
an accuracy's variation is the task's difficulty, which every family shares, so the
difference between two predicted accuracies carries both predictions' errors; and the argmax
over eleven noisy predictions favours whichever is overestimated (the optimiser's curse; Smith
& Winkler 2006). The choice is therefore learned on what it decides — the *lead* of each
family over the anchor family (the family of the learner with the best record across the
knowledge base), the regression-on-performance-differences form of algorithm selection
(Kerschke et al. 2019, *Automated Algorithm Selection*, §4):

    d̂_f(x) ≈ E[a_f − a_anchor | x],    f̂(x) = argmax_f d̂_f(x),    d̂_anchor ≡ 0,

with ``a_f`` a family's accuracy on a task (its best variant's) and one gradient-boosted
regressor per non-anchor family.

**Which inputs.** A task's descriptors — its modality (images or vectors), shots per class,
number of classes — and, optionally, its similarity to the source and the transferability of
the source's features, or every meta-feature. More inputs can fit the knowledge base's domains
better and new domains worse, so the inputs are chosen by the data: each candidate set (from
the fewest inputs to all of them, :data:`CANDIDATES`) is scored by the family regret of its
choices under grouped cross-validation (whole domains held out, ``GroupKFold``), and the
*smallest* set whose regret is within one standard error of the best is kept — Breiman's
one-standard-error rule (Breiman et al. 1984, *Classification and Regression Trees*, §3.4.3),
as in :mod:`learners.tuning`.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from advisor.kb.runner import FEATURE_PREFIX
from advisor.recommender.forest import Regressor, stored_or_fitted
from advisor.recommender.model import boosted_regressor, fit_tag, own_runs
from advisor.schemas import TrackRecord

DESCRIPTORS = ("image", "log_shots", "log_ways")
SIMILARITY = ("mmd", "frechet", "proxy_a_distance", "sinkhorn", "centroid_dist.mean")
TRANSFERABILITY = ("logme", "leep", "nce", "h_score", "h_score_shrinkage", "gbc", "transrate")
ALL = "all meta-features"
CANDIDATES: dict[str, tuple[str, ...]] = {
    "modality and shots": DESCRIPTORS[:2],
    "descriptors": DESCRIPTORS,
    "descriptors and similarity": DESCRIPTORS + SIMILARITY,
    "descriptors, similarity and transferability": DESCRIPTORS + SIMILARITY + TRANSFERABILITY,
    ALL: (),  # DESCRIPTORS and every meta-feature column; see choice_inputs
}
FOLDS = 5
DRAWS = 4000
NEAREST = 0.1
TIE = 0.005
_VERSION = 2


def choice_inputs(tasks: pd.DataFrame, names: tuple[str, ...] | None) -> pd.DataFrame:
    """The choice model's inputs from task rows (``mf.`` columns and ``modality``).

    ``image`` is 1 for images, 0 for vectors, undefined where the modality is unknown;
    ``log_shots`` and ``log_ways`` are the logarithms of the smallest class size and of the
    number of classes; other names are meta-features. ``names=None`` means every one.
    """
    modality = tasks["modality"] if "modality" in tasks.columns else pd.Series(index=tasks.index)
    derived = pd.DataFrame(
        {
            "image": modality.map({"image": 1.0, "vector": 0.0}).astype(float),
            "log_shots": np.log(_column(tasks, "shots_min").clip(lower=1.0)),
            "log_ways": np.log(_column(tasks, "nr_class").clip(lower=1.0)),
        },
        index=tasks.index,
    )
    features = {
        c.removeprefix(FEATURE_PREFIX): tasks[c].astype(float)
        for c in tasks.columns
        if c.startswith(FEATURE_PREFIX)
    }
    table = pd.concat([derived, pd.DataFrame(features, index=tasks.index)], axis=1)
    if names is None:
        return table
    return table.reindex(columns=list(names))


def _column(tasks: pd.DataFrame, name: str) -> pd.Series:
    column = FEATURE_PREFIX + name
    if column in tasks.columns:
        return tasks[column].astype(float)
    return pd.Series(np.nan, index=tasks.index)


def _informative(inputs: pd.DataFrame) -> list[str]:
    """Columns defined somewhere and not constant (the others cannot split anything)."""
    return [c for c in inputs.columns if inputs[c].nunique(dropna=True) > 1]


@dataclass(eq=False)
class FamilyChoice:
    """Fitted lead regressors, their inputs and out-of-domain errors, and each set's CV regret."""

    families: list[str]
    anchor: str
    inputs: list[str]
    feature_set: str
    regressors: dict[str, Regressor]
    residuals: np.ndarray  # (tasks, families): measured − out-of-fold predicted lead
    out_of_fold_regret: np.ndarray  # (tasks,): family regret of the out-of-fold choice
    X: np.ndarray  # (tasks, inputs): the knowledge base's tasks in the choice's inputs
    cv_scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # mean, its SE
    references: dict[str, str] = field(default_factory=dict)  # family → its reference variant
    variant_regressors: dict[str, dict[str, Regressor]] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        tasks: pd.DataFrame,
        family_accuracy: pd.DataFrame,
        anchor: str,
        *,
        seed: int = 0,
        candidates: dict[str, tuple[str, ...]] | None = None,
        cache: Path | None = None,
        shipped: Path | None = None,
        learner_accuracy: pd.DataFrame | None = None,
    ) -> FamilyChoice:
        """Choose the inputs by grouped cross-validation, then fit on every task.

        ``tasks`` are :func:`~advisor.recommender.model.task_table` rows (with ``domain``),
        ``family_accuracy`` each family's accuracy per task (columns: families). With
        ``learner_accuracy`` (columns: ``(family, variant)``) the variants are chosen the same
        way within each family: each variant's lead over the family's *reference* variant
        (its best mean accuracy over the knowledge base), from the same inputs. The
        cross-validation costs ``FOLDS`` fits per candidate and family (tens of seconds on the
        shipped knowledge base); with a ``cache`` folder its outcome (scores and the chosen
        set's errors) is kept there as JSON, per knowledge base and settings, and ``shipped``
        is a read-only folder looked in first.
        """
        candidates = CANDIDATES if candidates is None else candidates
        families = [str(f) for f in family_accuracy.columns]
        accuracy = family_accuracy.to_numpy(dtype=np.float64)
        every = choice_inputs(tasks, None)
        own = own_runs(tasks)
        calibrating = bool(own.any() and not own.all())  # own runs on top of a KB
        kb_inputs = every[~own] if calibrating else every
        columns = {
            name: _informative(kb_inputs if name == ALL else kb_inputs.reindex(columns=list(names)))
            for name, names in candidates.items()
        }
        name = f"choice-{_fingerprint(tasks, family_accuracy, anchor, candidates, seed)}.json"
        anchor_index = families.index(anchor)
        with threadpool_limits(limits=1, user_api="openmp"):
            stored = _stored(name, cache, shipped, len(tasks), len(families))
            base = None
            if stored is None and calibrating:
                base = cls.fit(
                    tasks[~own],
                    family_accuracy[~own],
                    anchor,
                    seed=seed,
                    candidates=candidates,
                    cache=cache,
                    shipped=shipped,
                    learner_accuracy=None if learner_accuracy is None else learner_accuracy[~own],
                )
                if base.families != families or base.inputs != columns[base.feature_set]:
                    base = None
            if stored is not None:
                scores, errors = stored
            elif base is not None:  # the own runs as one more held-out group
                scores = base.cv_scores
                errors = np.full(accuracy.shape, np.nan)
                errors[~own] = base.residuals
                errors[own] = _errors(base, every[own], accuracy[own], anchor_index)
            else:
                scores, residuals = _cross_validate(
                    {c: every[columns[c]].to_numpy(np.float64) for c in candidates},
                    accuracy,
                    anchor_index,
                    tasks["domain"].to_numpy(),
                    seed,
                )
                best = _one_standard_error(scores, list(candidates))
                errors = residuals.get(best, np.full(accuracy.shape, np.nan))
            chosen = _one_standard_error(scores, list(candidates))
            if stored is None and cache is not None:
                cache.mkdir(parents=True, exist_ok=True)
                (cache / name).write_text(_dumps(scores, errors))
            X = every[columns[chosen]].to_numpy(np.float64)
            references = _references(learner_accuracy, families)
            fitted = stored_or_fitted(
                f"leads-{_fitted_fingerprint(name, learner_accuracy)}-{fit_tag(seed)}",
                None,
                lambda: _fit_choice(
                    X,
                    accuracy,
                    anchor_index,
                    learner_accuracy,
                    families=families,
                    references=references,
                    seed=seed,
                ),
                cache=cache,
                shipped=shipped,
            )
        variant_regressors: dict[str, dict[str, Regressor]] = {}
        for key, regressor in fitted.items():
            kind, family, *variant = key.split("/")
            if kind == "variant":
                variant_regressors.setdefault(family, {})[variant[0]] = regressor
        return cls(
            families=families,
            anchor=anchor,
            inputs=columns[chosen],
            feature_set=chosen,
            regressors={f: fitted[f"lead/{f}"] for f in families if f"lead/{f}" in fitted},
            residuals=errors,
            out_of_fold_regret=_out_of_fold_regret(accuracy, errors, anchor_index),
            X=X,
            cv_scores=scores,
            references=references,
            variant_regressors=variant_regressors,
        )

    @property
    def cv_regret(self) -> dict[str, float]:
        """Each candidate input set's grouped-CV family regret (the mean of :attr:`cv_scores`)."""
        return {candidate: mean for candidate, (mean, _) in self.cv_scores.items()}

    @property
    def spread(self) -> np.ndarray:
        """Each input's standard deviation over the knowledge base (1 where constant)."""
        if self.X.size == 0:
            return np.zeros(0)
        std = np.nanstd(self.X, axis=0)
        return np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)

    def leads(self, tasks: pd.DataFrame) -> pd.DataFrame:
        """Each family's predicted lead over the anchor family (accuracy, 0–1 scale).

        The anchor's is 0; a family the knowledge base holds too few measurements of to learn
        its lead gets ``-inf``: it is never chosen over one with a record.
        """
        X = choice_inputs(tasks, tuple(self.inputs)).to_numpy(np.float64)
        return pd.DataFrame(self._leads(X), index=tasks.index)

    def _leads(self, X: np.ndarray) -> dict[str, np.ndarray]:
        with threadpool_limits(limits=1, user_api="openmp"):
            return {
                family: self.regressors[family].predict(X)
                if family in self.regressors
                else np.full(len(X), 0.0 if family == self.anchor else -np.inf)
                for family in self.families
            }

    def occlusion(self, tasks: pd.DataFrame, family: str, rival: str) -> pd.DataFrame:
        """What each input adds to ``family``'s predicted lead over ``rival``, first task.

        Each input is set in turn to its median over the knowledge base, and the margin
        ``d̂_family − d̂_rival`` lost is its effect (accuracy, 0–1 scale): an occlusion
        attribution (Zeiler & Fergus 2014, *Visualizing and Understanding Convolutional
        Networks*, §4.2, with inputs in place of image patches). Rows: the inputs; columns
        ``value``, ``typical`` and ``effect``.
        """
        x = choice_inputs(tasks.iloc[:1], tuple(self.inputs)).to_numpy(np.float64)
        defined = np.isfinite(self.X).any(axis=0) if self.X.size else np.zeros(0, dtype=bool)
        typical = np.full(len(self.inputs), np.nan)
        typical[defined] = np.nanmedian(self.X[:, defined], axis=0)
        leads = self._leads(np.vstack([x, occluded(x, typical)]))
        margin = leads[family] - leads[rival]
        effect = margin[0] - margin[1:] if np.isfinite(margin).all() else np.zeros(len(typical))
        return pd.DataFrame(
            {"value": x[0], "typical": typical, "effect": effect}, index=list(self.inputs)
        )

    def _nearest(self, tasks: pd.DataFrame) -> np.ndarray:
        """The KB rows nearest the first of ``tasks``: its ``NEAREST`` share, all families known.

        Nearest in the choice's inputs, each scaled by its standard deviation (L1 distance).
        """
        known = np.flatnonzero(np.isfinite(self.residuals).all(axis=1))
        if known.size == 0 or not self.spread.size:
            return known
        here = choice_inputs(tasks.iloc[:1], tuple(self.inputs)).to_numpy(np.float64)
        distance = np.abs(np.nan_to_num((self.X[known] - here) / self.spread)).sum(axis=1)
        keep = max(1, math.ceil(NEAREST * len(distance)))
        return np.asarray(known[distance <= np.partition(distance, keep - 1)[keep - 1]])

    def track_record(self, tasks: pd.DataFrame) -> TrackRecord | None:
        """How the choice did, out of domain, on the KB's tasks nearest the first of ``tasks``.

        The same ``NEAREST`` neighbourhood as :meth:`p_best`; on each of its tasks, the family
        regret of the choice made by the cross-validation's regressors that were fitted
        without that task's domain, and whether it picked a best family. ``None`` when the
        knowledge base gave no out-of-fold choices.
        """
        rows = self._nearest(tasks)
        regret = self.out_of_fold_regret[rows]
        regret = regret[np.isfinite(regret)]
        if regret.size == 0:
            return None
        return TrackRecord(
            tasks=int(regret.size),
            mean_regret=round(100 * float(regret.mean()), 2),
            best_share=round(float((regret <= 0.0).mean()), 3),
        )

    def choose(self, tasks: pd.DataFrame) -> list[str]:
        """The family with the largest predicted lead (the anchor family at 0), per task."""
        return _largest(self.leads(tasks))

    def variant_leads(self, tasks: pd.DataFrame, family: str) -> pd.DataFrame:
        """Each variant of ``family``'s predicted lead over the family's reference variant."""
        X = choice_inputs(tasks, tuple(self.inputs)).to_numpy(np.float64)
        fitted = self.variant_regressors.get(family, {})
        with threadpool_limits(limits=1, user_api="openmp"):
            columns = {variant: r.predict(X) for variant, r in fitted.items()}
        columns[self.references[family]] = np.zeros(len(X))
        return pd.DataFrame(columns, index=tasks.index)

    def choose_variant(self, tasks: pd.DataFrame, family: str) -> list[str]:
        """The variant of ``family`` with the largest predicted lead, per task."""
        return _largest(self.variant_leads(tasks, family))

    def p_best(self, tasks: pd.DataFrame, seed: int = 0) -> np.ndarray:
        """The probability that each family is best, for the first task of ``tasks``.

        Each of ``DRAWS`` draws adds the out-of-domain errors of one knowledge-base task —
        all families' at once, keeping their correlation — to the task's predicted leads and
        counts the winner. The errors are drawn from the ``NEAREST`` share of the KB's tasks
        nearest the task in the choice's (standardised) inputs, since they differ from one
        kind of task to another (locally weighted conformal prediction, Lei et al. 2018, §5.2).
        Families within ``TIE`` (half a point) of a draw's best share its win: many KB tasks
        end in ties (every good learner at 100 %), and a hair's difference between an
        out-of-fold and a full fit must not decide them.
        """
        leads = self.leads(tasks.iloc[:1]).to_numpy()[0]
        rows = self._nearest(tasks)
        pool = self.residuals[rows] if rows.size else np.zeros((1, len(self.families)))
        rng = np.random.default_rng(seed)
        draws = leads[None, :] + pool[rng.integers(0, pool.shape[0], DRAWS)]
        tied = draws >= draws.max(axis=1, keepdims=True) - TIE
        return np.asarray((tied / tied.sum(axis=1, keepdims=True)).mean(axis=0))


def occluded(x: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """One copy of the row ``x`` (``(1, d)``) per input, input ``j`` set to ``typical[j]``."""
    rows = np.repeat(x, x.shape[1], axis=0)
    rows[np.arange(x.shape[1]), np.arange(x.shape[1])] = typical
    return rows


def _largest(leads: pd.DataFrame) -> list[str]:
    """Per row, the column with the largest lead."""
    return [str(leads.columns[j]) for j in np.argmax(leads.to_numpy(), axis=1)]


def _cross_validate(
    inputs: dict[str, np.ndarray],
    accuracy: np.ndarray,
    anchor: int,
    groups: np.ndarray,
    seed: int,
) -> tuple[dict[str, tuple[float, float]], dict[str, np.ndarray]]:
    """Per candidate input set: grouped-CV regret (mean, standard error) and lead errors."""
    scores, residuals = {}, {}
    for candidate, X in inputs.items():
        predicted = _out_of_fold_leads(X, accuracy, anchor, groups, seed)
        if predicted is not None:
            scores[candidate] = _regret(predicted, accuracy)
            residuals[candidate] = accuracy - accuracy[:, [anchor]] - predicted
    return scores, residuals


def _fingerprint(
    tasks: pd.DataFrame,
    family_accuracy: pd.DataFrame,
    anchor: str,
    candidates: dict[str, tuple[str, ...]],
    seed: int,
) -> str:
    """A hash of what the cross-validation depends on."""
    digest = hashlib.sha256()
    for frame in (tasks, family_accuracy):
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    settings = {"anchor": anchor, "candidates": candidates, "seed": seed, "folds": FOLDS}
    digest.update(json.dumps({**settings, "version": _VERSION}, sort_keys=True).encode())
    return digest.hexdigest()[:20]


def _dumps(scores: dict[str, tuple[float, float]], residuals: np.ndarray) -> str:
    rows = [[None if not np.isfinite(v) else round(float(v), 6) for v in r] for r in residuals]
    return json.dumps({"scores": scores, "residuals": rows})


def _stored(
    name: str, cache: Path | None, shipped: Path | None, tasks: int, families: int
) -> tuple[dict[str, tuple[float, float]], np.ndarray] | None:
    """The outcome of an earlier cross-validation (JSON, never pickle), or ``None``."""
    for folder in (shipped, cache):
        if folder is None or not (folder / name).is_file():
            continue
        try:
            stored = json.loads((folder / name).read_text())
            scores = {str(k): (float(v[0]), float(v[1])) for k, v in stored["scores"].items()}
            residuals = np.array(stored["residuals"], dtype=np.float64).reshape(tasks, families)
        except (ValueError, TypeError, IndexError, KeyError, AttributeError):
            continue  # damaged: computed again
        return scores, residuals
    return None


def _references(learner_accuracy: pd.DataFrame | None, families: list[str]) -> dict[str, str]:
    """Per family, its reference variant: the best mean accuracy over the knowledge base."""
    if learner_accuracy is None:
        return {}
    references: dict[str, str] = {}
    for family in families:
        columns = [c for c in learner_accuracy.columns if c[0] == family]
        means = learner_accuracy[columns].mean().to_numpy(dtype=np.float64)  # NaN-skipping
        best = int(np.nanargmax(means)) if np.isfinite(means).any() else 0
        references[family] = str(columns[best][1])
    return references


def _fit_choice(
    X: np.ndarray,
    accuracy: np.ndarray,
    anchor: int,
    learner_accuracy: pd.DataFrame | None,
    *,
    families: list[str],
    references: dict[str, str],
    seed: int,
) -> dict[str, HistGradientBoostingRegressor]:
    """Every regressor of the choice, by name.

    ``lead/<family>``: a family's lead over the anchor family; ``variant/<family>/<variant>``:
    a variant's lead over its family's reference variant.
    """
    fitted = {f"lead/{families[j]}": r for j, r in _fit_leads(X, accuracy, anchor, seed).items()}
    if learner_accuracy is None:
        return fitted
    for family in families:
        columns = [c for c in learner_accuracy.columns if c[0] == family]
        own = learner_accuracy[columns].to_numpy(dtype=np.float64)
        variants = [str(c[1]) for c in columns]
        reference = variants.index(references[family])
        for j, regressor in _fit_leads(X, own, reference, seed).items():
            fitted[f"variant/{family}/{variants[j]}"] = regressor
    return fitted


def _fitted_fingerprint(cross_validation: str, learner_accuracy: pd.DataFrame | None) -> str:
    """A hash of what the fitted regressors depend on beyond the cross-validation's inputs."""
    digest = hashlib.sha256(cross_validation.encode())
    if learner_accuracy is not None:
        digest.update(pd.util.hash_pandas_object(learner_accuracy, index=True).to_numpy().tobytes())
        digest.update(json.dumps([list(map(str, c)) for c in learner_accuracy.columns]).encode())
    return digest.hexdigest()[:20]


def _fit_leads(
    X: np.ndarray, accuracy: np.ndarray, anchor: int, seed: int
) -> dict[int, HistGradientBoostingRegressor]:
    """One regressor per non-anchor family ``j`` of ``a_j − a_anchor`` (rows where defined)."""
    regressors: dict[int, HistGradientBoostingRegressor] = {}
    if X.shape[1] == 0:
        return regressors
    for j in range(accuracy.shape[1]):
        if j == anchor:
            continue
        lead = accuracy[:, j] - accuracy[:, anchor]
        known = np.isfinite(lead)
        if known.sum() >= 2:
            regressors[j] = boosted_regressor(seed).fit(X[known], lead[known])
    return regressors


def _out_of_fold_leads(
    X: np.ndarray, accuracy: np.ndarray, anchor: int, groups: np.ndarray, seed: int
) -> np.ndarray | None:
    """Every task's predicted leads from regressors fitted without its domain (``GroupKFold``)."""
    n_groups = len(np.unique(groups))
    if n_groups < 2 or X.shape[1] == 0:
        return None
    leads = np.zeros(accuracy.shape)
    for train, test in GroupKFold(n_splits=min(FOLDS, n_groups)).split(X, groups=groups):
        for j, regressor in _fit_leads(X[train], accuracy[train], anchor, seed).items():
            leads[test, j] = regressor.predict(X[test])
    return leads


def _errors(
    base: FamilyChoice, inputs: pd.DataFrame, accuracy: np.ndarray, anchor: int
) -> np.ndarray:
    """Measured − predicted leads of tasks ``base`` was fitted without (``NaN`` where unmeasured).

    A family the base has no regressor for is predicted level with the anchor, as in the
    cross-validation (:func:`_out_of_fold_leads`).
    """
    X = inputs.reindex(columns=base.inputs).to_numpy(np.float64)
    predicted = np.column_stack(
        [
            base.regressors[f].predict(X) if f in base.regressors else np.zeros(len(X))
            for f in base.families
        ]
    )
    return np.asarray(accuracy - accuracy[:, [anchor]] - predicted)


def _out_of_fold_regret(accuracy: np.ndarray, errors: np.ndarray, anchor: int) -> np.ndarray:
    """Per task, the family regret of the choice its out-of-fold leads make.

    The out-of-fold leads are the measured ones less their errors,
    ``d̂ = (a − a_anchor) − e``; the regret is ``max_f a_f − a_{argmax d̂}``. ``NaN`` where a
    family's accuracy (so its error) is unknown.
    """
    predicted = accuracy - accuracy[:, [anchor]] - errors
    known = np.flatnonzero(np.isfinite(predicted).all(axis=1))
    regret = np.full(len(accuracy), np.nan)
    chosen = np.argmax(predicted[known], axis=1)
    regret[known] = accuracy[known].max(axis=1) - accuracy[known, chosen]
    return regret


def _regret(leads: np.ndarray, accuracy: np.ndarray) -> tuple[float, float]:
    """Mean family regret of choosing ``argmax(leads)`` per task, and its standard error.

    Regret on a task: the best family's accuracy minus the chosen family's (a family that
    could not run on a task is never best there, and choosing it costs the whole best
    accuracy).
    """
    filled = np.nan_to_num(accuracy, nan=0.0)
    lost = filled.max(axis=1) - filled[np.arange(len(filled)), np.argmax(leads, axis=1)]
    return float(lost.mean()), float(lost.std(ddof=1) / np.sqrt(max(len(lost), 1)))


def _one_standard_error(scores: dict[str, tuple[float, float]], order: list[str]) -> str:
    """The first (smallest) candidate whose regret is within one standard error of the best."""
    if not scores:
        return order[0]
    best = min(scores, key=lambda name: scores[name][0])
    limit = scores[best][0] + scores[best][1]
    return next(name for name in order if name in scores and scores[name][0] <= limit)
