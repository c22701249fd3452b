"""InstanceNorm(track_running_stats=True) against PyTorch's InstanceNorm2d(track_running_stats=True) definition
(the official cross-view D), written out in NumPy: training normalises each sample with its own moments and moves
the running mean / variance by 0.1 towards the batch mean of the per-sample mean / unbiased variance; eval mode
normalises with the running statistics."""

import numpy as np

from lggan_tf.layers.norms import InstanceNorm


def test_running_statistics_follow_pytorch():
    rng = np.random.default_rng(0)
    x1 = rng.normal(1.5, 2.0, size=(3, 5, 4, 2)).astype(np.float32)
    x2 = rng.normal(-0.5, 0.5, size=(3, 5, 4, 2)).astype(np.float32)
    norm = InstanceNorm(track_running_stats=True)
    norm.build(x1.shape)
    mean, var = np.zeros(2), np.ones(2)
    for x in (x1, x2):
        y = norm(x, training=True).numpy()
        mu, v = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
        np.testing.assert_allclose(y, (x - mu) / np.sqrt(v + 1e-5), atol=1e-5)
        n = x.shape[1] * x.shape[2]
        mean = 0.9 * mean + 0.1 * mu.mean(axis=(0, 1, 2))
        var = 0.9 * var + 0.1 * (v * n / (n - 1)).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(norm.moving_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(norm.moving_variance.numpy(), var, rtol=1e-5)
    np.testing.assert_allclose(norm(x1, training=False).numpy(), (x1 - mean) / np.sqrt(var + 1e-5), atol=1e-5)
    untracked = InstanceNorm()
    np.testing.assert_allclose(untracked(x1, training=False).numpy(), norm(x1, training=True).numpy(), atol=1e-6)
    assert not untracked.weights
