r"""Seeded synthetic vector data with controllable covariate and concept shift.

Synthetic domains share one *world*, drawn from ``family_seed`` (dimension ``D``, ``K``
classes, ``H = 64`` hidden units):

- inputs: ``x ~ N(mu_s, Sigma_s)`` in ``R^D`` with ``mu_s = s u`` and
  ``Sigma_s = R diag(exp(s a)) R^T``, sampled as ``x = s u + R diag(exp(s a / 2)) z``,
  ``z ~ N(0, I)``. ``u`` is a random unit vector, ``R`` a Haar-random rotation (QR of a
  Gaussian matrix, signs fixed by ``diag(R)``), ``a ~ U(-0.5, 0.5)^D``. The covariate shift
  ``s >= 0`` changes ``p(x)`` only; ``s = 0`` is the source, ``N(0, I)``.
- labels: a fixed random teacher, ``y = argmax_k [W2_c tanh(W1 x + b1) + b2_c]_k`` with
  ``W1 ~ N(0, 4/D)^{HxD}``, ``b1 ~ N(0, 1)^H``, ``W2, W2' ~ N(0, 1/H)^{KxH}`` independent.
  The concept shift ``c in [0, 1]`` changes ``p(y|x)`` only:
  ``W2_c = cos(c pi/2) W2 + sin(c pi/2) W2'`` (same distribution as ``W2`` for every ``c``);
  ``c = 0`` is the source concept, ``c = 1`` an unrelated one.
- class biases: ``b2_c`` is calibrated on a fixed source sample (``max(10000, 200 K)`` draws of
  ``N(0, I)``) so that the classes are balanced under the source input distribution:
  starting from 0, 60 times ``b2_k <- b2_k - 0.1 log(K f_k)`` with ``f_k`` the smoothed
  frequency ``(n_k + 1) / (n + K)`` of class ``k``. The damped step (0.1 rather than the plain
  fixed-point step 1) is a deviation needed for convergence: the undamped iteration oscillates
  for ``K >= 10``.
- samples: ``x`` is drawn in batches from the domain's input distribution and labelled by the
  domain's teacher; the first ``examples_per_class`` points of each class are kept, in draw
  order (class-balanced rejection sampling). A class still short after
  ``100 K examples_per_class`` draws is too rare under that shift: a ``builtin.bad_option``
  error. With ``noise = sigma > 0`` the stored features are ``x + sigma e``, ``e ~ N(0, I)``,
  while the label stays the teacher's label of the clean ``x`` (no label noise).
  Balancing the classes makes the sample's inputs follow ``(1/K) sum_k p_s(x | y = k)``
  rather than ``p_s(x)``: where a shift makes the class priors unequal, the balanced sample's
  mean along ``u`` falls short of ``s`` (about ``0.88 s`` for ``s = 1`` with the defaults).
  The teacher is deterministic, so the labels are still exactly ``y = teacher_c(x)``.

Randomness: the world comes from ``SeedSequence(family_seed)`` alone, so one ``family_seed``
gives the same ``u, R, a, W1, b1, W2, W2'`` to the source and to all its targets. The sample
comes from ``SeedSequence([family_seed, seed])`` with the domain's shifts ``(s, c)`` in its
spawn key, so that the source and a target loaded with the same ``seed`` do not share their
draws. Same domain, seed and options give the same bytes.

The teacher-network construction follows the student-teacher setting of statistical learning
(Gardner & Derrida, 1989; Saad & Solla, 1995); covariate versus concept shift follows the
taxonomy of Moreno-Torres et al., *A unifying view on dataset shift in classification*,
Pattern Recognition 45(1), 2012.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from advisor import errors
from advisor.errors import ConfigurationError

__all__ = ["SyntheticWorld", "Teacher", "numbered", "sample_synthetic", "synthetic_world"]

_HIDDEN_UNITS = 64
_CALIBRATION_MIN_ROWS = 10_000
_CALIBRATION_ROWS_PER_CLASS = 200
_CALIBRATION_STEPS = 60
_CALIBRATION_STEP_SIZE = 0.1
_MAX_DRAWS_PER_EXAMPLE = 100
_MIN_BATCH = 1024  # rows; the first batch is 2 K examples_per_class rows, then doubling
_BATCH_VALUES = 1 << 22  # most values in one batch of drawn inputs (rows x features)
MAX_COVARIATE_SHIFT = 100.0

# spawn-key tags of the independent random streams
_WORLD_STREAMS = (
    "shift_direction",
    "rotation",
    "log_scales",
    "w1",
    "b1",
    "w2",
    "w2_alt",
    "calibration",
)


_SAMPLE_STREAM, _NOISE_STREAM = 0, 1


@dataclass(frozen=True, eq=False)
class Teacher:
    """A labelling function ``y = argmax_k [w2 tanh(w1 x + b1) + b2]_k`` (arrays read-only)."""

    w1: np.ndarray  # (H, D)
    b1: np.ndarray  # (H,)
    w2: np.ndarray  # (K, H)
    b2: np.ndarray  # (K,)

    def hidden(self, x: np.ndarray) -> np.ndarray:
        """Hidden activations ``tanh(w1 x + b1)`` of rows ``x`` ``(N, D)``, shape ``(N, H)``."""
        hidden: np.ndarray = np.tanh(np.asarray(x, dtype=np.float64) @ self.w1.T + self.b1)
        return hidden

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Class scores ``w2 tanh(w1 x + b1) + b2``, shape ``(N, K)``."""
        scores: np.ndarray = self.hidden(x) @ self.w2.T + self.b2
        return scores

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class indices ``argmax_k`` of the scores, ``int64`` in ``0..K-1``."""
        labels: np.ndarray = np.argmax(self.logits(x), axis=1).astype(np.int64)
        return labels


@dataclass(frozen=True, eq=False)
class SyntheticWorld:
    """What ``family_seed`` fixes: the shift map and both teachers' weights (read-only).

    Attributes:
        family_seed, n_features, n_classes: what the world was drawn from.
        shift_direction: ``u``, a unit vector of ``R^D``.
        rotation: ``R``, a ``(D, D)`` orthogonal matrix.
        log_scales: ``a ~ U(-0.5, 0.5)^D``; the variances along ``R``'s columns are
            ``exp(s a)``.
        w1, b1: the shared hidden layer, ``(H, D)`` and ``(H,)``.
        w2, w2_alt: the source output weights ``W2`` and the independent ``W2'``, ``(K, H)``.
    """

    family_seed: int
    n_features: int
    n_classes: int
    shift_direction: np.ndarray
    rotation: np.ndarray
    log_scales: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    w2_alt: np.ndarray

    def input_mean(self, covariate_shift: float) -> np.ndarray:
        """``mu_s = s u``."""
        return covariate_shift * self.shift_direction

    def input_covariance(self, covariate_shift: float) -> np.ndarray:
        """``Sigma_s = R diag(exp(s a)) R^T``."""
        scales = np.exp(covariate_shift * self.log_scales)
        covariance: np.ndarray = (self.rotation * scales) @ self.rotation.T
        return covariance

    def draw_inputs(
        self, rng: np.random.Generator, n_rows: int, covariate_shift: float
    ) -> np.ndarray:
        """``n_rows`` draws ``x = s u + R diag(exp(s a / 2)) z`` with ``z ~ N(0, I)``."""
        z = rng.standard_normal((n_rows, self.n_features))
        scale = np.exp(0.5 * covariate_shift * self.log_scales)
        x: np.ndarray = (z * scale) @ self.rotation.T + self.input_mean(covariate_shift)
        return x

    def teacher(self, concept_shift: float) -> Teacher:
        """The teacher of concept shift ``c``: ``W2_c = cos(c pi/2) W2 + sin(c pi/2) W2'``.

        Its biases ``b2_c`` are calibrated on the world's fixed source sample (module
        docstring), so the classes are about balanced under ``N(0, I)``.
        """
        _check(0.0 <= concept_shift <= 1.0, f"concept_shift must be in [0, 1], got {concept_shift}")
        return _calibrated_teacher(self, float(concept_shift))


def synthetic_world(family_seed: int, n_features: int, n_classes: int) -> SyntheticWorld:
    """The synthetic world of ``family_seed`` in ``R^n_features`` with ``n_classes`` classes.

    Deterministic and cached: the same arguments return the same (read-only) world. See the
    module docstring for the distributions of its parts.

    Raises:
        ConfigurationError: ``builtin.bad_option`` for a negative seed, ``n_features < 2`` or
            ``n_classes < 2``.
    """
    _check(family_seed >= 0, f"family_seed must be >= 0, got {family_seed}")
    _check(n_features >= 2, f"n_features must be >= 2, got {n_features}")
    _check(n_classes >= 2, f"n_classes must be >= 2, got {n_classes}")
    return _cached_world(int(family_seed), int(n_features), int(n_classes))


def sample_synthetic(
    world: SyntheticWorld,
    *,
    seed: int,
    covariate_shift: float = 0.0,
    concept_shift: float = 0.0,
    examples_per_class: int = 50,
    noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """A class-balanced sample ``(X, y)`` of the domain ``(s, c)`` of ``world``.

    Args:
        world: from :func:`synthetic_world`.
        seed: the sample's seed (``>= 0``); the world's ``family_seed`` and the shifts are
            mixed in, see the module docstring.
        covariate_shift: ``s >= 0``, moves ``p(x)``.
        concept_shift: ``c`` in ``[0, 1]``, changes ``p(y|x)``.
        examples_per_class: rows kept per class.
        noise: std of Gaussian noise added to the stored features (labels are of clean ``x``).

    Returns:
        ``X`` float64 ``(K * examples_per_class, D)`` and ``y`` int64 class indices, in draw
        order, exactly ``examples_per_class`` of each class.

    Raises:
        ConfigurationError: ``builtin.bad_option`` for an argument out of range or a class too
            rare to fill under this shift.
    """
    _check(seed >= 0, f"seed must be >= 0, got {seed}")
    _check(
        0.0 <= covariate_shift <= MAX_COVARIATE_SHIFT,
        f"covariate_shift must be in [0, {MAX_COVARIATE_SHIFT:g}], got {covariate_shift}",
    )
    _check(examples_per_class >= 1, f"examples_per_class must be >= 1, got {examples_per_class}")
    _check(bool(np.isfinite(noise)) and noise >= 0.0, f"noise must be >= 0, got {noise}")
    teacher = world.teacher(concept_shift)
    streams = _sample_streams(world.family_seed, seed, covariate_shift, concept_shift)
    x, y = _draw_balanced(
        world,
        teacher,
        streams[_SAMPLE_STREAM],
        covariate_shift=covariate_shift,
        concept_shift=concept_shift,
        examples_per_class=examples_per_class,
    )
    if noise > 0.0:
        x = x + noise * streams[_NOISE_STREAM].standard_normal(x.shape)
    return x, y


@lru_cache(maxsize=8)
def _cached_world(family_seed: int, n_features: int, n_classes: int) -> SyntheticWorld:
    def rng(stream: str) -> np.random.Generator:
        return _world_rng(family_seed, stream)

    direction = rng("shift_direction").standard_normal(n_features)
    q, r = np.linalg.qr(rng("rotation").standard_normal((n_features, n_features)))
    out_std = 1.0 / np.sqrt(_HIDDEN_UNITS)
    return SyntheticWorld(
        family_seed=family_seed,
        n_features=n_features,
        n_classes=n_classes,
        shift_direction=_frozen(direction / np.linalg.norm(direction)),
        rotation=_frozen(q * np.sign(np.diag(r))),
        log_scales=_frozen(rng("log_scales").uniform(-0.5, 0.5, n_features)),
        w1=_frozen(rng("w1").normal(0.0, 2.0 / np.sqrt(n_features), (_HIDDEN_UNITS, n_features))),
        b1=_frozen(rng("b1").standard_normal(_HIDDEN_UNITS)),
        w2=_frozen(rng("w2").normal(0.0, out_std, (n_classes, _HIDDEN_UNITS))),
        w2_alt=_frozen(rng("w2_alt").normal(0.0, out_std, (n_classes, _HIDDEN_UNITS))),
    )


def _world_rng(family_seed: int, stream: str) -> np.random.Generator:
    """The generator of one named part of the world of ``family_seed``."""
    key = (_WORLD_STREAMS.index(stream),)
    return np.random.default_rng(np.random.SeedSequence(family_seed, spawn_key=key))


def _sample_streams(
    family_seed: int, seed: int, covariate_shift: float, concept_shift: float
) -> list[np.random.Generator]:
    """Independent generators for drawing inputs and noise, keyed by the domain's shifts."""
    # the shifts' float64 bit patterns, as non-negative ints ("+ 0.0" turns -0.0 into 0.0)
    shifts = [int(np.float64(v + 0.0).view(np.uint64)) for v in (covariate_shift, concept_shift)]
    root = np.random.SeedSequence([family_seed, seed], spawn_key=shifts)
    return [np.random.default_rng(child) for child in root.spawn(2)]


@lru_cache(maxsize=32)
def _calibrated_teacher(world: SyntheticWorld, concept_shift: float) -> Teacher:
    angle = 0.5 * np.pi * concept_shift
    w2 = np.cos(angle) * world.w2 + np.sin(angle) * world.w2_alt
    unbiased = Teacher(world.w1, world.b1, w2, np.zeros(world.n_classes))
    calibration_x = _world_rng(world.family_seed, "calibration").standard_normal(
        (_calibration_rows(world.n_classes), world.n_features)
    )
    b2 = _balancing_biases(unbiased.logits(calibration_x))
    return Teacher(world.w1, world.b1, _frozen(w2), _frozen(b2))


def _calibration_rows(n_classes: int) -> int:
    return max(_CALIBRATION_MIN_ROWS, _CALIBRATION_ROWS_PER_CLASS * n_classes)


def _balancing_biases(scores: np.ndarray) -> np.ndarray:
    """Biases ``b`` that make ``argmax(scores + b)`` about uniform over the ``K`` columns."""
    n_rows, n_classes = scores.shape
    biases = np.zeros(n_classes)
    for _ in range(_CALIBRATION_STEPS):
        counts = np.bincount(np.argmax(scores + biases, axis=1), minlength=n_classes)
        frequency = (counts + 1.0) / (n_rows + n_classes)
        biases -= _CALIBRATION_STEP_SIZE * np.log(n_classes * frequency)
    return biases


def _draw_balanced(
    world: SyntheticWorld,
    teacher: Teacher,
    rng: np.random.Generator,
    *,
    covariate_shift: float,
    concept_shift: float,
    examples_per_class: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``examples_per_class`` draws of each class, in draw order."""
    n_classes = world.n_classes
    filled = np.zeros(n_classes, dtype=np.int64)
    kept_x: list[np.ndarray] = []
    kept_y: list[np.ndarray] = []
    budget = _MAX_DRAWS_PER_EXAMPLE * n_classes * examples_per_class
    max_batch = max(_MIN_BATCH, _BATCH_VALUES // world.n_features)
    batch = min(max_batch, max(_MIN_BATCH, 2 * n_classes * examples_per_class))
    drawn = 0
    while filled.min() < examples_per_class:
        if drawn >= budget:
            _raise_too_rare(filled, drawn, examples_per_class, covariate_shift, concept_shift)
        x = world.draw_inputs(rng, batch, covariate_shift)
        y = teacher.predict(x)
        keep = filled[y] + _rank_within_class(y, n_classes) < examples_per_class
        kept_x.append(x[keep])
        kept_y.append(y[keep])
        filled += np.bincount(y[keep], minlength=n_classes)
        drawn += batch
        batch = min(max_batch, 2 * batch)
    return np.concatenate(kept_x), np.concatenate(kept_y)


def _rank_within_class(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """For each row, how many earlier rows of the batch have its label."""
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels, minlength=n_classes)
    starts = np.cumsum(counts) - counts
    ranks = np.empty_like(labels)
    ranks[order] = np.arange(labels.size) - starts[labels[order]]
    return ranks


def _raise_too_rare(
    filled: np.ndarray, drawn: int, wanted: int, covariate_shift: float, concept_shift: float
) -> None:
    short = np.flatnonzero(filled < wanted)
    labels = numbered("c", filled.size)
    names = ", ".join(f"{labels[k]} ({filled[k]}/{wanted})" for k in short[:10])
    raise ConfigurationError(
        f"After {drawn} draws, these classes are still short of {wanted} examples: "
        f"{names}. They are too rare under covariate_shift={covariate_shift:g}, "
        f"concept_shift={concept_shift:g}; lower the shift, examples_per_class or n_classes, "
        "or try another family_seed.",
        code=errors.BUILTIN_BAD_OPTION,
        classes=[int(k) for k in short],
        draws=drawn,
    )


def numbered(prefix: str, count: int) -> list[str]:
    """``prefix`` + zero-padded ``0..count-1`` (at least 2 digits), sorted like the numbers."""
    width = max(2, len(str(count - 1)))
    return [f"{prefix}{i:0{width}d}" for i in range(count)]


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.setflags(write=False)
    return array


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigurationError(message, code=errors.BUILTIN_BAD_OPTION)
