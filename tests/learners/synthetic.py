"""Easy synthetic classification data for the learner tests."""

from __future__ import annotations

import numpy as np


def blob_classes(n_classes: int, per_class: int, dim: int, *, seed: int, spread: float = 0.3):
    """Well-separated Gaussian classes: centres on a sphere of radius 4, noise ``spread``."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, dim))
    centres *= 4.0 / np.linalg.norm(centres, axis=1, keepdims=True)
    y = np.repeat(np.arange(n_classes), per_class)
    return centres[y] + spread * rng.normal(size=(y.size, dim)), y


def pattern_images(n_classes: int, per_class: int, *, seed: int, size: int = 12):
    """Each class a random binary 4×4 pattern blown up to ``size``×``size``, with pixel noise."""
    rng = np.random.default_rng(seed)
    patterns = rng.random((n_classes, 4, 4)) > 0.5
    big = np.kron(patterns, np.ones((size // 4, size // 4))).astype(np.float64)
    y = np.repeat(np.arange(n_classes), per_class)
    noisy = big[y] * 0.8 + 0.2 * rng.random((y.size, size, size))
    return np.clip(noisy, 0, 1).astype(np.float32), y
