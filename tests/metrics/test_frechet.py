"""FID / KID math against NumPy references (eigh-based; scipy is not installed)."""

import numpy as np
import pytest

from lggan_tf.metrics.extractors import TinyExtractor
from lggan_tf.metrics.frechet import FeatureStats, frechet_distance, kernel_inception_distance


def numpy_fid(a, b):
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = np.linalg.eigh(ca)
    sa = vecs @ np.diag(np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(sa @ cb @ sa), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * trace_sqrt)


def stats_of(x, chunks=3):
    stats = FeatureStats(x.shape[1])
    for part in np.array_split(x, chunks):
        stats.update(part)
    return stats


def test_streaming_stats_equal_numpy_mean_and_cov():
    x = np.random.default_rng(0).normal(5.0, 2.0, (50, 6))
    stats = stats_of(x, chunks=4)
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov, np.cov(x, rowvar=False), rtol=1e-10, atol=1e-12)


def test_frechet_distance_matches_numpy_and_is_symmetric():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(200, 8)) @ rng.normal(size=(8, 8))
    b = rng.normal(0.3, 1.5, size=(150, 8))
    sa, sb = stats_of(a), stats_of(b)
    fid = frechet_distance(sa.mean, sa.cov, sb.mean, sb.cov)
    assert fid == pytest.approx(numpy_fid(a, b), rel=1e-9)
    assert fid == pytest.approx(frechet_distance(sb.mean, sb.cov, sa.mean, sa.cov), rel=1e-9)


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_a_mean_shift():
    x = np.random.default_rng(2).normal(size=(64, 32))  # rank-deficient-ish covariance (64 samples, 32 dims)
    s = stats_of(x)
    assert abs(frechet_distance(s.mean, s.cov, s.mean, s.cov)) < 1e-6
    shifted = stats_of(x + 0.5)
    assert frechet_distance(s.mean, s.cov, shifted.mean, shifted.cov) == pytest.approx(32 * 0.25, rel=1e-6)


def test_kid_matches_the_unbiased_mmd_formula():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(20, 5)), rng.normal(0.5, 1.0, size=(20, 5))

    def k(x, y):
        return (x @ y / 5 + 1) ** 3

    m = 20
    xx = sum(k(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(b[i], b[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(a[i], b[j]) for i in range(m) for j in range(m)) / m ** 2
    assert kernel_inception_distance(a, b, num_subsets=1) == pytest.approx(xx + yy - 2 * xy, rel=1e-9)
    assert kernel_inception_distance(a, b + 1.0, num_subsets=1) > kernel_inception_distance(a, b, num_subsets=1)


def test_tiny_extractor_is_deterministic_and_separates_image_sets():
    rng = np.random.default_rng(4)
    dark = rng.integers(0, 60, (4, 32, 32, 3), dtype=np.uint8)
    light = rng.integers(180, 255, (4, 32, 32, 3), dtype=np.uint8)
    f1, f2 = TinyExtractor()(dark), TinyExtractor()(dark)
    assert f1.shape == (4, 224)
    np.testing.assert_array_equal(f1, f2)
    assert np.abs(TinyExtractor()(light).mean(0) - f1.mean(0)).sum() > 0.1


def test_feature_stats_errors_name_the_problem():
    stats = FeatureStats(4)
    with pytest.raises(ValueError, match=r"\[N, 4\]"):
        stats.update(np.zeros((3, 5)))
    stats.update(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        _ = stats.cov
