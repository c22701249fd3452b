"""Inception score (all / top-k), top-k accuracy and KL score as SelectionGAN's scripts define them."""

import numpy as np
import pytest

from lggan_tf.metrics.scene_scores import inception_score, keep_top_k, kl_score, topk_accuracy


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_inception_score_uniform_is_one_and_confident_distinct_is_n():
    assert inception_score(np.full((10, 7), 1 / 7)) == pytest.approx(1.0)
    probs = softmax(np.eye(6) * 40.0)
    assert inception_score(probs) == pytest.approx(6.0, rel=1e-6)


def test_topk_inception_score_keeps_k_entries_without_renormalising():
    p = softmax(np.random.default_rng(0).normal(size=(5, 10)))
    kept = keep_top_k(p, 2)
    assert ((kept > 1e-8).sum(1) == 2).all() and (kept.sum(1) < 1).all()
    p_bar = kept.mean(0)
    expected = np.exp(np.mean(np.sum(kept * (np.log(kept) - np.log(p_bar)), axis=1)))
    assert inception_score(p, top_k=2) == pytest.approx(expected, rel=1e-12)


def test_topk_accuracy_all_and_confident():
    real = np.array([[0.9, 0.05, 0.05, 0, 0, 0], [0.4, 0.3, 0.3, 0, 0, 0], [0.1, 0.8, 0.1, 0, 0, 0]]) + 1e-6
    fake = np.array([[0.9, 0.1, 0, 0, 0, 0], [0.1, 0.2, 0.3, 0.25, 0.05, 0.1], [0.05, 0.01, 0.3, 0.3, 0.3, 0.04]])
    acc = topk_accuracy(real, fake)
    # pair 0: top-1 hit; pair 1: ref class 0 is 5th of 6 -> top-5 hit; pair 2: ref 1 is last -> miss
    assert acc["top1_all"] == pytest.approx(100 / 3) and acc["top5_all"] == pytest.approx(200 / 3)
    assert acc["num_confident"] == 2  # pairs 0 and 2 have real confidence > 0.5
    assert acc["top1_confident"] == pytest.approx(50.0) and acc["top5_confident"] == pytest.approx(50.0)


def test_kl_score_is_exp_of_mean_and_plain_std():
    rng = np.random.default_rng(1)
    fake, real = softmax(rng.normal(size=(8, 5))), softmax(rng.normal(size=(8, 5)))
    per = np.sum(fake * np.log(fake / real), axis=1)
    out = kl_score(fake, real)
    assert out["kl"] == pytest.approx(np.exp(per.mean())) and out["kl_std"] == pytest.approx(per.std())
    assert kl_score(real, real)["kl"] == pytest.approx(1.0)


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match="differ"):
        topk_accuracy(np.ones((2, 3)) / 3, np.ones((3, 3)) / 3)
    with pytest.raises(ValueError, match=r"\[N >= 1, K >= 2\]"):
        inception_score(np.ones(5))
