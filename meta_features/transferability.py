"""Transferability of a source model's features (or outputs) to a labelled target task.

Each score takes what a source model produces on the *target* examples — embeddings
``features`` ``(N, D)``, class probabilities ``source_probs`` ``(N, Z)`` or hard source labels
— and the target labels ``y`` (any hashable values), and returns one Python float. Higher means
"the source looks more transferable" for every score. All of them need at least two target
classes: with a single class every score is a constant and there is nothing to transfer, so
they refuse it (``meta_features.too_few_examples``) rather than return a meaningless number.

=====================  ==================================================  =====================
function               reference                                           input
=====================  ==================================================  =====================
:func:`logme`          You et al., ICML 2021                               features
:func:`leep`           Nguyen et al., ICML 2020                            source probabilities
:func:`nce`            Tran et al., ICCV 2019                              source hard labels
:func:`h_score`        Bao et al., ICIP 2019                               features
:func:`h_score_shrinkage`  Ibrahim et al., ICLR 2023                       features
:func:`gbc`            Pándy et al., CVPR 2022                             features
:func:`transrate`      Huang et al., ICML 2022                             features
=====================  ==================================================  =====================

Every function validates its inputs with :mod:`meta_features._checks` (finite numbers, matching
lengths) and raises :class:`~meta_features.errors.InvalidInputError` with a stable code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.covariance import ledoit_wolf_shrinkage

from meta_features._checks import as_labels, as_matrix, require_classes
from meta_features._linalg import logdet_identity_plus_gram, one_hot, require_positive, thin_svd
from meta_features.errors import BAD_SHAPE, InvalidInputError

__all__ = ["gbc", "h_score", "h_score_shrinkage", "leep", "logme", "nce", "transrate"]

_TINY = float(np.finfo(np.float64).tiny)
# LogME: fixed-point iterations, convergence of log(alpha / beta), and the range alpha and beta
# are clamped to (on features scaled to unit root-mean-square row norm, see ``logme``).
_LOGME_MAX_ITER = 200
_LOGME_TOL = 1e-9
_PRECISION_RANGE = (1e-10, 1e10)
# LEEP: rows of source_probs must sum to 1 within this tolerance (and be >= -tolerance).
_SIMPLEX_TOL = 1e-6
# GBC: per-class variances are floored at this fraction of the mean overall feature variance.
_GBC_VARIANCE_FLOOR = 1e-4


# -- LogME ----------------------------------------------------------------------------------


def logme(features: ArrayLike, y: ArrayLike) -> float:
    r"""LogME: the maximised log marginal likelihood per example of a linear model on ``features``.

    You, Liu, Wang, Long, "LogME: Practical Assessment of Pre-trained Models for Transfer
    Learning", ICML 2021. For each class ``c`` the one-vs-rest target ``y_c ∈ {0, 1}^N`` is
    modelled by Bayesian linear regression ``y_c = F w + ε`` with ``w ~ N(0, α⁻¹ I_D)`` and
    ``ε ~ N(0, β⁻¹ I_N)``. The log evidence is

    .. math::
        \mathcal{L}(α, β) = \tfrac{D}{2}\log α + \tfrac{N}{2}\log β - \tfrac{N}{2}\log 2π
            - \tfrac{β}{2}\lVert y - F m\rVert^2 - \tfrac{α}{2}\lVert m\rVert^2
            - \tfrac12 \log\lvert α I_D + β F^\top F\rvert,

    with ``m = β (α I + β FᵀF)⁻¹ Fᵀ y`` the posterior mean. It is maximised over ``α, β`` by the
    paper's fixed-point iteration (``γ = Σ σ_i / (σ_i + α/β)``, ``α ← γ / ‖m‖²``,
    ``β ← (N − γ) / ‖y − F m‖²``), written in the eigenbasis of ``FᵀF``: one thin SVD of ``F``
    (``O(N D min(N, D))``) serves every class and every iteration, which then costs
    ``O(min(N, D))`` per class. LogME is the mean over classes of ``max 𝓛 / N``.

    The log-determinant is exact: ``FᵀF`` has ``r = rank F`` eigenvalues ``σ_i > 0`` and
    ``D − r`` zero eigenvalues, each contributing ``log α``, so
    ``D/2 log α − ½ log|αI + βFᵀF| = r/2 log α − ½ Σ_{i≤r} log(α + β σ_i)``. Keeping those
    terms is what makes the ``N < D`` and ``N ≥ D`` cases (and rank-deficient ``F``) agree: the
    value is then the log density of ``y`` under ``N(0, β⁻¹ I + α⁻¹ F Fᵀ)``, which depends on
    ``F`` only through ``F Fᵀ`` and varies continuously as ``D`` crosses ``N``.

    Deviations from the reference implementation (github.com/thuml/LogME): its ``N < D``
    branch (and its rank-truncated ``N > D`` branch) sums the log-determinant over the ``k``
    retained singular values while keeping ``D/2 log α``, i.e. it drops the ``(D − k)/2 log α``
    terms of the zero eigenvalues, so its value jumps when ``D`` crosses ``N``; it also adds
    ``1e-5`` to ``‖m‖²`` and ``‖y − Fm‖²`` and stops after 11 iterations. Here the evidence is
    exact, evaluated at the final ``α, β``, and the iteration runs to convergence. For numerical
    robustness ``F`` is first divided by its root-mean-square row norm — the maximised evidence
    is invariant to rescaling ``F`` (``α`` absorbs the factor), so this changes nothing but the
    range of ``α`` — and ``α, β`` are clamped to ``[1e-10, 1e10]``. ``α`` reaches the upper
    clamp when the features do not help a class (the evidence tends to that of the model
    without features); ``β`` when the model can fit ``y_c`` exactly (e.g. ``rank F = N``),
    where the evidence tends to a finite limit if ``rank F = N`` but to ``+∞`` if ``y_c`` lies
    in a smaller column space (features that are exactly the one-hot labels): there the clamp
    caps the score near ``½ log 1e10 ≈ 11.5`` nats per example. Numerically zero singular
    values (NumPy's ``matrix_rank`` cutoff) count as zero eigenvalues.

    Args:
        features: ``(N, D)`` source features of the target examples.
        y: ``N`` target labels, at least two classes.

    Returns:
        The LogME score (nats per example; higher is better).
    """
    matrix = as_matrix(features, "features", min_rows=2)
    codes, n_classes = as_labels(y, matrix.shape[0])
    require_classes(n_classes, 2, "LogME")
    problem = _OneVsRest.build(_unit_rms_rows(matrix), one_hot(codes, n_classes))
    alpha, beta = _maximise_evidence(problem)
    return float(np.mean(_log_evidence(problem, alpha, beta)) / problem.n)


def _unit_rms_rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` divided by its root-mean-square row norm (unchanged if it is all zeros)."""
    scale = math.sqrt(float(np.mean(np.sum(matrix**2, axis=1))))
    return matrix / scale if scale > 0.0 else matrix


@dataclass(frozen=True)
class _OneVsRest:
    """The ``K`` one-vs-rest regressions of LogME in the eigenbasis of ``FᵀF``.

    Attributes:
        sigma: ``(r,)`` the nonzero eigenvalues ``σ_i`` of ``FᵀF`` (squared singular values).
        projections: ``(r, K)`` ``(u_iᵀ y_c)²`` for the left singular vectors ``u_i``.
        outside: ``(K,)`` the part of ``‖y_c‖²`` outside the column space of ``F``.
        n: the number of examples ``N``.
    """

    sigma: np.ndarray
    projections: np.ndarray
    outside: np.ndarray
    n: int

    @classmethod
    def build(cls, matrix: np.ndarray, targets: np.ndarray) -> _OneVsRest:
        """The problems for features ``matrix`` ``(N, D)`` and 0/1 targets ``(N, K)``."""
        u, s = thin_svd(matrix)
        projections = (u.T @ targets) ** 2
        outside = np.clip(np.sum(targets**2, axis=0) - projections.sum(axis=0), 0.0, None)
        return cls(s**2, projections, outside, matrix.shape[0])

    def terms(self, ratio: np.ndarray) -> tuple[np.ndarray, ...]:
        """``γ, N − γ, ‖m‖², ‖y − Fm‖²`` per class at ``α/β = ratio`` (each ``(K,)``).

        ``N − γ`` is summed directly rather than subtracted, to keep its precision.
        """
        denominator = self.sigma[:, None] + ratio[None, :]
        shrink = ratio[None, :] / denominator
        gamma = np.sum(self.sigma[:, None] / denominator, axis=0)
        dof = (self.n - self.sigma.size) + np.sum(shrink, axis=0)
        weight_norm = np.sum(self.sigma[:, None] * self.projections / denominator**2, axis=0)
        residual = np.sum(self.projections * shrink**2, axis=0) + self.outside
        return gamma, dof, weight_norm, residual


def _maximise_evidence(problem: _OneVsRest) -> tuple[np.ndarray, np.ndarray]:
    """MacKay's fixed point for ``α, β`` per class, clamped to ``_PRECISION_RANGE``."""
    low, high = _PRECISION_RANGE
    alpha = np.ones(problem.projections.shape[1])
    beta = np.ones(problem.projections.shape[1])
    for _ in range(_LOGME_MAX_ITER):
        ratio = alpha / beta
        gamma, dof, weight_norm, residual = problem.terms(ratio)
        alpha = np.clip(gamma / np.maximum(weight_norm, _TINY), low, high)
        beta = np.clip(dof / np.maximum(residual, _TINY), low, high)
        if np.all(np.abs(np.log(alpha / beta) - np.log(ratio)) <= _LOGME_TOL):
            break
    return alpha, beta


def _log_evidence(problem: _OneVsRest, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """The exact log evidence per class (see :func:`logme`), ``(K,)``."""
    _, _, weight_norm, residual = problem.terms(alpha / beta)
    logdet = np.sum(np.log(alpha[None, :] + beta[None, :] * problem.sigma[:, None]), axis=0)
    evidence: np.ndarray = (
        problem.sigma.size / 2.0 * np.log(alpha)
        + problem.n / 2.0 * np.log(beta)
        - problem.n / 2.0 * math.log(2.0 * math.pi)
        - beta / 2.0 * residual
        - alpha / 2.0 * weight_norm
        - logdet / 2.0
    )
    return evidence


# -- LEEP and NCE ---------------------------------------------------------------------------


def leep(source_probs: ArrayLike, y: ArrayLike) -> float:
    r"""LEEP: log expected empirical prediction of the source classifier on the target labels.

    Nguyen, Hassner, Seeger, Archambeau, "LEEP: A New Measure to Evaluate Transferability of
    Learned Representations", ICML 2020. With ``θ(x_i)`` the source model's class
    probabilities on target example ``i`` (a row of ``source_probs``), the empirical joint and
    conditional of target label ``y`` and source label ``z`` are
    ``P(y, z) = 1/N Σ_i θ(x_i)_z [y_i = y]`` and ``P(y | z) = P(y, z) / P(z)``, and

    .. math::
        \mathrm{LEEP} = \frac1N \sum_i \log \sum_z P(y_i \mid z)\, θ(x_i)_z \;\le 0 .

    Rows of ``source_probs`` must lie on the simplex: entries ``>= -1e-6`` and row sums within
    ``1e-6`` of 1; such tiny deviations are clipped and renormalised away. Source classes with
    ``P(z) = 0`` get ``P(y | z) = 0`` (they carry no mass). The inner sum is positive in exact
    arithmetic (``θ(x_i)_z > 0`` implies ``P(y_i, z) > 0``); it is floored at the smallest
    positive float before the logarithm, only to guard against round-off.

    Args:
        source_probs: ``(N, Z)`` source-class probabilities of the target examples.
        y: ``N`` target labels, at least two classes.

    Returns:
        The LEEP score (``<= 0``; higher is better).

    Raises:
        InvalidInputError: ``meta_features.bad_shape`` for rows off the simplex or a length
            mismatch, ``meta_features.non_finite`` for NaN or infinity.
    """
    probs = _simplex_rows(as_matrix(source_probs, "source_probs"))
    codes, n_classes = as_labels(y, probs.shape[0])
    require_classes(n_classes, 2, "LEEP")
    joint = one_hot(codes, n_classes).T @ probs / probs.shape[0]
    marginal = joint.sum(axis=0)
    conditional = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)
    expected = np.sum(probs * conditional[codes], axis=1)
    return float(np.mean(np.log(np.maximum(expected, _TINY))))


def _simplex_rows(probs: np.ndarray) -> np.ndarray:
    """Rows of ``probs`` checked to lie on the simplex within ``_SIMPLEX_TOL``, renormalised."""
    if np.any(probs < -_SIMPLEX_TOL):
        raise InvalidInputError(
            "source_probs must be probabilities (non-negative entries).", code=BAD_SHAPE
        )
    clipped = np.clip(probs, 0.0, None)
    sums = clipped.sum(axis=1)
    if np.any(np.abs(sums - 1.0) > _SIMPLEX_TOL):
        raise InvalidInputError(
            f"Each row of source_probs must sum to 1 (within {_SIMPLEX_TOL:g}); "
            f"the worst row sums to {sums[np.argmax(np.abs(sums - 1.0))]:.6g}.",
            code=BAD_SHAPE,
        )
    renormalised: np.ndarray = clipped / sums[:, None]
    return renormalised


def nce(source_labels: ArrayLike, y: ArrayLike) -> float:
    r"""NCE: negative conditional entropy of the target labels given the source labels.

    Tran, Nguyen, Hassner, "Transferability and Hardness of Supervised Classification Tasks",
    ICCV 2019. With ``P(y, z)`` the empirical joint distribution of target label ``y`` and hard
    source label ``z`` over the ``N`` examples,

    .. math::
        \mathrm{NCE} = -H(Y \mid Z) = \sum_{y, z} P(y, z) \log \frac{P(y, z)}{P(z)} \;\le 0,

    in nats (natural logarithm); terms with ``P(y, z) = 0`` are 0. It is 0 when ``z``
    determines ``y`` and ``−H(Y)`` when ``z`` is constant.

    Args:
        source_labels: ``N`` hard source-class labels of the target examples (any hashable).
        y: ``N`` target labels, at least two classes.

    Returns:
        The NCE score (``<= 0``; higher is better).
    """
    source = np.asarray(source_labels)
    source_codes, n_source = as_labels(
        source, source.shape[0] if source.ndim else -1, "source_labels"
    )
    codes, n_classes = as_labels(y, source_codes.shape[0])
    require_classes(n_classes, 2, "NCE")
    counts = np.bincount(codes * n_source + source_codes, minlength=n_classes * n_source)
    joint = counts.reshape(n_classes, n_source) / codes.shape[0]
    marginal = np.broadcast_to(joint.sum(axis=0), joint.shape)
    present = joint > 0
    return float(np.sum(joint[present] * np.log(joint[present] / marginal[present])))


# -- H-score and its shrinkage version --------------------------------------------------------


def h_score(features: ArrayLike, y: ArrayLike) -> float:
    r"""H-score: how much of the feature covariance the class-conditional means explain.

    Bao, Li, Huang, Wang, "An Information-Theoretic Approach to Transferability in Task
    Transfer Learning", ICIP 2019:

    .. math::
        H(f) = \operatorname{tr}\bigl(\operatorname{cov}(f)^{-1}
            \operatorname{cov}(\mathbb{E}[f \mid y])\bigr),

    both covariances with the ``1/N`` normalisation; ``cov(E[f|y])`` is the covariance of the
    matrix whose row ``i`` is the mean feature of class ``y_i`` (class means weighted by class
    frequency). The inverse is the Moore–Penrose pseudo-inverse with a relative cutoff:
    directions whose singular value in the centred features is ``<= s_max · max(N, D) · eps``
    are dropped. Computed through the thin SVD ``F_c = U S Vᵀ`` of the centred features, where
    the trace reduces to ``Σ_j ‖P_y u_j‖²`` (``P_y`` the projection onto the class indicators),
    i.e. the sum of squared correlations between the principal directions and the classes.
    Hence ``0 <= H <= K − 1``, and ``H`` is invariant to invertible linear maps of the
    features.

    Note: when the centred features span all ``N − 1`` centred directions (generically when
    ``N <= D``) this gives ``H = K − 1`` whatever the features are — the plain H-score carries
    no information in that regime; use :func:`h_score_shrinkage` there.

    Args:
        features: ``(N, D)`` source features of the target examples.
        y: ``N`` target labels, at least two classes.

    Returns:
        The H-score (higher is better).
    """
    centred, codes, n_classes = _centred_features(features, y, "H-score")
    u, _ = thin_svd(centred)
    return float(np.sum(_class_energy(u, codes, n_classes)))


def h_score_shrinkage(features: ArrayLike, y: ArrayLike) -> float:
    r"""Shrinkage H-score: the H-score with a Ledoit–Wolf covariance (stable when ``N < D``).

    Ibrahim, Ponomareva, Mazumder, "Newer is not always better: Rethinking transferability
    metrics, their peculiarities, stability and performance", ICLR 2023. The feature
    covariance is replaced by the Ledoit–Wolf estimate
    ``Σ_α = (1 − α) Σ + α (tr Σ / D) I`` (``α`` from
    :func:`sklearn.covariance.ledoit_wolf_shrinkage` on the centred features, ``Σ`` with the
    ``1/N`` normalisation) and the between-class covariance is scaled by ``(1 − α)``:

    .. math::
        H_α(f) = \operatorname{tr}\bigl(Σ_α^{-1} (1 - α)
            \operatorname{cov}(\mathbb{E}[f \mid y])\bigr).

    With the thin SVD of the centred features (``λ_j = s_j² / N``, the nonzero eigenvalues of
    ``Σ``) this is ``Σ_j w_j ‖P_y u_j‖²`` with ``w_j = (1 − α) λ_j / ((1 − α) λ_j + α tr Σ / D)``
    in ``[0, 1]``: the H-score's sum with low-variance directions down-weighted, so it is
    finite, at most the plain H-score, and informative when ``N < D``. Identical to the
    paper's formula; only the evaluation (no ``D × D`` inverse) differs.

    Args:
        features: ``(N, D)`` source features of the target examples.
        y: ``N`` target labels, at least two classes.

    Returns:
        The shrinkage H-score (higher is better).
    """
    centred, codes, n_classes = _centred_features(features, y, "The shrinkage H-score")
    u, s = thin_svd(centred)
    if s.size == 0:
        return 0.0
    shrinkage = float(ledoit_wolf_shrinkage(centred, assume_centered=True))
    variances = (1.0 - shrinkage) * s**2 / centred.shape[0]
    target = shrinkage * float(np.sum(s**2)) / (centred.shape[0] * centred.shape[1])
    weights = variances / (variances + target)
    return float(np.sum(weights * _class_energy(u, codes, n_classes)))


def _centred_features(
    features: ArrayLike, y: ArrayLike, what: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """Validated features minus their mean, label codes and the number of classes."""
    matrix = as_matrix(features, "features", min_rows=2)
    codes, n_classes = as_labels(y, matrix.shape[0])
    require_classes(n_classes, 2, what)
    return matrix - matrix.mean(axis=0), codes, n_classes


def _class_energy(u: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """``‖P_y u_j‖²`` per column ``u_j``: ``Σ_c (Σ_{i ∈ c} u_ij)² / n_c``."""
    sums = one_hot(codes, n_classes).T @ u
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    energy: np.ndarray = np.sum(sums**2 / counts[:, None], axis=0)
    return energy


# -- GBC -------------------------------------------------------------------------------------


def gbc(features: ArrayLike, y: ArrayLike) -> float:
    r"""GBC: minus the summed Bhattacharyya coefficients between per-class Gaussians.

    Pándy, Agostinelli, Uijlings, Ferrari, Mensink, "Transferability Estimation using
    Bhattacharyya Class Separability", CVPR 2022, "diagonal" variant. Each class ``c`` is a
    Gaussian ``N(μ_c, diag(v_c))`` with the class mean and the (``1/n_c``) per-dimension class
    variance. With ``v̄ = (v_i + v_j) / 2`` the Bhattacharyya distance is

    .. math::
        D_B(i, j) = \frac18 \sum_d \frac{(μ_{i,d} - μ_{j,d})^2}{\bar v_d}
            + \frac12 \sum_d \log \frac{\bar v_d}{\sqrt{v_{i,d}\, v_{j,d}}},

    and ``GBC = −Σ_{i≠j} exp(−D_B(i, j))`` (``<= 0``; 0 means perfectly separated classes).

    Deviations: the variances are floored at ``1e-4 ×`` the mean over dimensions of the overall
    feature variance (the authors' code floors at an absolute ``1e-4``), so the score is
    invariant to the scale of the features and defined for classes with one example or
    constant features (if every feature is constant the floor is 1). The authors' pipeline
    reduces the features with PCA before computing GBC; this function takes the features as
    given. ``D_B`` is a sum over dimensions, so with many dimensions and few examples per
    class every pair looks separated and GBC saturates at 0 — reduce high-dimensional
    features first when comparing sources of different widths.

    Args:
        features: ``(N, D)`` source features of the target examples.
        y: ``N`` target labels, at least two classes.

    Returns:
        The GBC score (``<= 0``; higher is better).
    """
    matrix = as_matrix(features, "features", min_rows=2)
    codes, n_classes = as_labels(y, matrix.shape[0])
    require_classes(n_classes, 2, "GBC")
    indicator = one_hot(codes, n_classes)
    counts = indicator.sum(axis=0)[:, None]
    means = indicator.T @ matrix / counts
    variances = indicator.T @ (matrix - means[codes]) ** 2 / counts
    floor = _GBC_VARIANCE_FLOOR * float(np.mean(np.var(matrix, axis=0)))
    variances = np.maximum(variances, floor if floor > 0.0 else 1.0)
    log_variances = np.log(variances)
    total = 0.0
    for i in range(n_classes - 1):
        average = (variances[i] + variances[i + 1 :]) / 2.0
        separation = np.sum((means[i] - means[i + 1 :]) ** 2 / average, axis=1) / 8.0
        spread = np.sum(np.log(average) - (log_variances[i] + log_variances[i + 1 :]) / 2.0, axis=1)
        total += float(np.sum(np.exp(-(separation + spread / 2.0))))
    return -2.0 * total


# -- TransRate -------------------------------------------------------------------------------


def transrate(features: ArrayLike, y: ArrayLike, eps: float = 1e-4) -> float:
    r"""TransRate: coding rate of the features minus their mean coding rate within classes.

    Huang, Huang, Zhang, Li, Hu ("Frustratingly Easy Transferability Estimation"), ICML 2022.
    Following the authors' implementation exactly: the features are centred (once, over all
    examples), ``Z_k`` are the rows of class ``k`` (not re-centred), and with the coding rate
    ``R(Z, ε) = ½ log det(I_D + ZᵀZ / (n ε))`` for ``Z`` of ``n`` rows,

    .. math::
        \mathrm{TrR} = R(Z, ε) - \frac1K \sum_{k=1}^{K} R(Z_k, ε).

    The paper writes the coding rate with the factor ``d / (n ε)`` of Ma et al. (2007); the
    released code, which this follows, uses ``1 / (n ε)``. The log-determinant is computed
    with ``slogdet`` on the smaller of ``ZᵀZ`` and ``Z Zᵀ`` (Sylvester's identity), so
    ``N < D`` costs ``O(N² D)``. Like the original, the score depends on the scale of the
    features relative to ``ε``.

    Args:
        features: ``(N, D)`` source features of the target examples.
        y: ``N`` target labels, at least two classes.
        eps: the distortion ``ε > 0``.

    Returns:
        The TransRate score in nats (higher is better).

    Raises:
        InvalidInputError: ``meta_features.bad_option`` when ``eps`` is not a positive number.
    """
    distortion = require_positive(eps, "eps")
    centred, codes, n_classes = _centred_features(features, y, "TransRate")
    within = [_coding_rate(centred[codes == k], distortion) for k in range(n_classes)]
    return float(_coding_rate(centred, distortion) - np.mean(within))


def _coding_rate(z: np.ndarray, eps: float) -> float:
    """``½ log det(I + ZᵀZ / (n ε))`` for ``Z`` of ``n`` rows."""
    return 0.5 * logdet_identity_plus_gram(z, 1.0 / (z.shape[0] * eps))
