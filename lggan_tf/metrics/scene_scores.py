"""Cross-view scene-classifier scores, exactly as SelectionGAN's evaluation scripts define them
(lggan_official_code.md §4.2): inception score (all / top-1 / top-5), top-k accuracy, KL score.

All functions take class probabilities p(y|x) [N, K] (softmax outputs of the scene classifier, e.g. Places365).
"""

from __future__ import annotations

import numpy as np

TOPK_FLOOR = 1e-9  # compute_topK_KL.py: probabilities outside the top k are set to this, not renormalised


def _probs(name: str, probs) -> np.ndarray:
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
        raise ValueError(f"{name}: expected class probabilities [N >= 1, K >= 2], got shape {p.shape}")
    return p


def keep_top_k(probs, k: int) -> np.ndarray:
    """Keep each row's k largest probabilities, set the others to 1e-9 (no renormalisation, as the scripts)."""
    p = _probs("keep_top_k", probs)
    if not 1 <= k <= p.shape[1]:
        raise ValueError(f"keep_top_k: k={k}, expected 1..{p.shape[1]}")
    order = np.argsort(-p, axis=1, kind="stable")[:, :k]
    out = np.full_like(p, TOPK_FLOOR)
    np.put_along_axis(out, order, np.take_along_axis(p, order, axis=1), axis=1)
    return out


def inception_score(probs, top_k: int | None = None) -> float:
    """IS = exp(mean_x sum_y p(y|x) [log p(y|x) - log p_bar(y)]), p_bar = mean_x p(y|x); top_k: keep_top_k first.
    Uniform predictions give 1; N images confidently in N distinct classes give N."""
    p = _probs("inception_score", probs)
    if top_k:
        p = keep_top_k(p, top_k)
    p_bar = p.mean(axis=0, keepdims=True)
    log_p = np.log(np.maximum(p, 1e-30))
    kl = np.sum(p * (log_p - np.log(np.maximum(p_bar, 1e-30))), axis=1)
    return float(np.exp(kl.mean()))


def topk_accuracy(real_probs, fake_probs, confidence: float = 0.5) -> dict:
    """compute_accuracies.py: reference class = the real image's top-1; top-1 = it is the generated image's top-1,
    top-5 = it is in the generated top-5; over all pairs and over pairs whose real top-1 probability > confidence.
    Returns percentages {top1_all, top1_confident, top5_all, top5_confident} and `num_confident`."""
    real, fake = _probs("topk_accuracy(real)", real_probs), _probs("topk_accuracy(fake)", fake_probs)
    if real.shape != fake.shape:
        raise ValueError(f"topk_accuracy: real {real.shape} and generated {fake.shape} probabilities differ")
    ref = np.argmax(real, axis=1)
    order = np.argsort(-fake, axis=1, kind="stable")
    hit1 = order[:, 0] == ref
    hit5 = np.any(order[:, :min(5, fake.shape[1])] == ref[:, None], axis=1)
    confident = real.max(axis=1) > confidence

    def pct(hits, mask):
        return float(100.0 * hits[mask].mean()) if mask.any() else float("nan")

    everything = np.ones_like(confident)
    return {"top1_all": pct(hit1, everything), "top1_confident": pct(hit1, confident),
            "top5_all": pct(hit5, everything), "top5_confident": pct(hit5, confident),
            "num_confident": int(confident.sum())}


def kl_score(fake_probs, real_probs) -> dict:
    """KL_model_data.py: KL_x = sum_y p_gen(y|x) (log p_gen - log p_real) per pair; reported as
    {"kl": exp(mean_x KL_x), "kl_std": std_x KL_x} (the exp is on the mean only, as published)."""
    fake, real = _probs("kl_score(fake)", fake_probs), _probs("kl_score(real)", real_probs)
    if real.shape != fake.shape:
        raise ValueError(f"kl_score: generated {fake.shape} and real {real.shape} probabilities differ")
    kl = np.sum(fake * (np.log(np.maximum(fake, 1e-30)) - np.log(np.maximum(real, 1e-30))), axis=1)
    return {"kl": float(np.exp(kl.mean())), "kl_std": float(kl.std())}


__all__ = ["inception_score", "keep_top_k", "kl_score", "topk_accuracy"]
