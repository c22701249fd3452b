"""Frechet distance (FID) and kernel inception distance (KID) on feature activations, in float64.

    stats = FeatureStats(dim); stats.update(features_batch) ...   # streaming mean / covariance
    fid = frechet_distance(stats_a.mean, stats_a.cov, stats_b.mean, stats_b.cov)

FID (Heusel et al. 2017) = |mu_a - mu_b|^2 + tr(C_a) + tr(C_b) - 2 tr((C_a C_b)^1/2). The trace of the matrix square
root is taken as tr((C_a^1/2 C_b C_a^1/2)^1/2), which only needs symmetric eigendecompositions (`tf.linalg.eigh`;
no scipy): both matrices are PSD, so negative round-off eigenvalues are clamped to 0, and so is the result.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class FeatureStats:
    """Streaming float64 mean and covariance (np.cov convention, ddof=1) of [N, D] feature batches."""

    def __init__(self, dim: int):
        self.dim = int(dim)
        self.count = 0
        self._sum = np.zeros(self.dim, np.float64)
        self._outer = np.zeros((self.dim, self.dim), np.float64)
        self._shift = None  # first batch mean, subtracted for numerical stability of the running sums

    def update(self, features) -> None:
        x = np.asarray(features, np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"FeatureStats.update: expected features [N, {self.dim}], got shape {x.shape}")
        if self._shift is None:
            self._shift = x.mean(axis=0)
        x = x - self._shift
        self.count += x.shape[0]
        self._sum += x.sum(axis=0)
        self._outer += x.T @ x

    @property
    def mean(self) -> np.ndarray:
        self._check(1)
        return self._shift + self._sum / self.count

    @property
    def cov(self) -> np.ndarray:
        self._check(2)
        centred = self._sum / self.count
        return (self._outer - self.count * np.outer(centred, centred)) / (self.count - 1)

    def _check(self, n):
        if self.count < n:
            raise ValueError(f"FeatureStats: {self.count} feature vectors, need at least {n} (add more images)")

    def save(self, path: str) -> None:
        np.savez(path, mean=self.mean, cov=self.cov, count=self.count)


def load_stats(path: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(mean [D], cov [D, D], count) written by FeatureStats.save."""
    with np.load(path) as f:
        return f["mean"], f["cov"], int(f["count"])


def _sqrt_psd(matrix: tf.Tensor) -> tf.Tensor:
    """Square root of a symmetric PSD matrix via eigh (negative round-off eigenvalues clamped to 0)."""
    vals, vecs = tf.linalg.eigh(matrix)
    return (vecs * tf.sqrt(tf.maximum(vals, 0.0))[None, :]) @ tf.transpose(vecs)


def frechet_distance(mean_a, cov_a, mean_b, cov_b) -> float:
    """Frechet distance between N(mean_a, cov_a) and N(mean_b, cov_b); means [D], covariances [D, D]."""
    mean_a, mean_b = tf.constant(mean_a, tf.float64), tf.constant(mean_b, tf.float64)
    cov_a, cov_b = tf.constant(cov_a, tf.float64), tf.constant(cov_b, tf.float64)
    if mean_a.shape != mean_b.shape or cov_a.shape != cov_b.shape or cov_a.shape != (mean_a.shape[0],) * 2:
        raise ValueError(f"frechet_distance: shapes mean {mean_a.shape}/{mean_b.shape}, cov {cov_a.shape}/"
                         f"{cov_b.shape}; expected [D] and [D, D] for both sets")
    sqrt_a = _sqrt_psd(0.5 * (cov_a + tf.transpose(cov_a)))
    middle = sqrt_a @ cov_b @ sqrt_a
    eig = tf.linalg.eigvalsh(0.5 * (middle + tf.transpose(middle)))
    trace_sqrt = tf.reduce_sum(tf.sqrt(tf.maximum(eig, 0.0)))
    diff = mean_a - mean_b
    fid = tf.reduce_sum(diff * diff) + tf.linalg.trace(cov_a) + tf.linalg.trace(cov_b) - 2.0 * trace_sqrt
    return float(tf.maximum(fid, 0.0))


def kernel_inception_distance(features_a, features_b, num_subsets: int = 100, max_subset_size: int = 1000,
                              seed: int = 0) -> float:
    """KID (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel (x.y / D + 1)^3, averaged over
    random subsets of size min(N_a, N_b, max_subset_size) (StyleGAN2-ADA's estimator). Features [N, D]."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"kernel_inception_distance: features {a.shape} and {b.shape}; expected [N, D] and [M, D]")
    m = min(a.shape[0], b.shape[0], max_subset_size)
    if m < 2:
        raise ValueError(f"kernel_inception_distance: {m} samples per set; need at least 2")
    dim = a.shape[1]
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(num_subsets):
        x = a[rng.choice(a.shape[0], m, replace=False)]
        y = b[rng.choice(b.shape[0], m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T / dim + 1) ** 3, (y @ y.T / dim + 1) ** 3, (x @ y.T / dim + 1) ** 3)
        diag_free = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m - 1)
        total += (diag_free - 2 * kxy.sum() / m) / m
    return float(total / num_subsets)


__all__ = ["FeatureStats", "frechet_distance", "kernel_inception_distance", "load_stats"]
