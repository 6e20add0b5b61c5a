"""What the meta-features need to know of a source domain: its :class:`SourceProfile`.

``meta_features`` knows nothing of neural networks. A source (built by :mod:`learners`)
reaches it as a profile: a function that embeds inputs into the source backbone's feature
space, the source classifier's probabilities, and a few arrays that summarise the source data
in that space — so the source data itself need not be kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from meta_features._checks import as_labels, as_matrix
from meta_features.errors import BAD_SHAPE, InvalidInputError

Embed = Callable[[np.ndarray], np.ndarray]
PredictProba = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class SourceProfile:
    """A compact profile of a source domain in its backbone's embedding space.

    Attributes:
        embed: maps raw inputs ``(N, ...)`` (the source's input spec) to embeddings ``(N, d)``.
        predict_proba: maps raw inputs to the source classifier's probabilities ``(N, Z)``.
        embedding_mean: mean embedding of the source data, ``(d,)``.
        embedding_cov: covariance (``ddof=1``) of the source embeddings, ``(d, d)``.
        embedding_sample: a fixed random sample of source embeddings, ``(M, d)``.
        class_centroids: mean embedding of each of the ``Z`` source classes, ``(Z, d)``.
        name: the source's name, for reports.
    """

    embed: Embed
    predict_proba: PredictProba
    embedding_mean: np.ndarray
    embedding_cov: np.ndarray
    embedding_sample: np.ndarray
    class_centroids: np.ndarray
    name: str = "source"
    dim: int = field(init=False)

    def __post_init__(self) -> None:
        mean = np.asarray(self.embedding_mean, dtype=np.float64).reshape(-1)
        d = mean.shape[0]
        cov = np.asarray(self.embedding_cov, dtype=np.float64)
        sample = as_matrix(self.embedding_sample, "embedding_sample", min_rows=2)
        centroids = as_matrix(self.class_centroids, "class_centroids")
        if cov.shape != (d, d) or sample.shape[1] != d or centroids.shape[1] != d:
            raise InvalidInputError(
                f"Profile arrays disagree on the embedding dimension {d}: covariance "
                f"{cov.shape}, sample {sample.shape}, centroids {centroids.shape}.",
                code=BAD_SHAPE,
            )
        object.__setattr__(self, "embedding_mean", mean)
        object.__setattr__(self, "embedding_cov", cov)
        object.__setattr__(self, "embedding_sample", sample)
        object.__setattr__(self, "class_centroids", centroids)
        object.__setattr__(self, "dim", d)

    @classmethod
    def from_embeddings(
        cls,
        embeddings: np.ndarray,
        labels: np.ndarray,
        *,
        embed: Embed,
        predict_proba: PredictProba,
        sample_size: int = 1000,
        random_state: int = 0,
        name: str = "source",
    ) -> SourceProfile:
        """Summarise the embeddings of a source dataset into a profile.

        Args:
            embeddings: embeddings of the source data ``(N, d)``.
            labels: the source labels ``(N,)``.
            embed: the source network's embedding function.
            predict_proba: the source classifier's probability function.
            sample_size: how many embeddings to keep (seeded sample without replacement).
            random_state: seed of the sample.
            name: the source's name.
        """
        matrix = as_matrix(embeddings, "embeddings", min_rows=2)
        codes, n_classes = as_labels(labels, matrix.shape[0], "labels")
        rng = np.random.default_rng(random_state)
        keep = rng.choice(matrix.shape[0], size=min(sample_size, matrix.shape[0]), replace=False)
        centroids = np.stack([matrix[codes == k].mean(axis=0) for k in range(n_classes)])
        return cls(
            embed=embed,
            predict_proba=predict_proba,
            embedding_mean=matrix.mean(axis=0),
            embedding_cov=np.atleast_2d(np.cov(matrix, rowvar=False, ddof=1)),
            embedding_sample=matrix[np.sort(keep)],
            class_centroids=centroids,
            name=name,
        )
