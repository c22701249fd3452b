"""Deterministic stand-in weights for a PyTorch state_dict layout (NumPy only: imported by tools/ in the torch venv
and by the CI tests, which must agree bit for bit).

    layout = [("features.0.weight", (64, 3, 11, 11), "float32"), ("features.0.bias", (64,), "float32"), ...]
    state = seeded_state_dict(layout, seed=0)      # OrderedDict key -> np.ndarray, drawn in layout order

Every tensor is drawn from one `numpy.random.default_rng(seed)` stream in key order, so the same (layout, seed)
gives the same weights everywhere. Scales keep activations O(1) through deep ReLU nets: conv / linear weights ~
U(+-sqrt(6 / fan_in)) (Kaiming-uniform: the second moment survives each conv + ReLU), biases ~ U(+-0.1), BatchNorm weight ~
U(0.5, 1.5), bias ~ U(+-0.1), running_mean ~ U(+-0.1), running_var ~ U(0.5, 1.5), num_batches_tracked = 0.
"""

from __future__ import annotations

import collections
import math

import numpy as np

_BN_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def _is_batchnorm(key: str, keys: set) -> bool:
    """A `.weight` / `.bias` whose module also has running statistics is a BatchNorm affine parameter."""
    module = key.rsplit(".", 1)[0]
    return f"{module}.running_mean" in keys


def seeded_state_dict(key_shapes, seed: int) -> "collections.OrderedDict[str, np.ndarray]":
    """key_shapes: [(key, shape, dtype)] in the checkpoint's order -> OrderedDict of deterministic arrays."""
    rng = np.random.default_rng(seed)
    keys = {k for k, _, _ in key_shapes}
    out = collections.OrderedDict()
    for key, shape, dtype in key_shapes:
        shape, dtype = tuple(int(s) for s in shape), np.dtype(dtype)
        leaf = key.rsplit(".", 1)[-1]
        if leaf == "num_batches_tracked":
            value = np.zeros(shape, dtype)
        elif leaf == "running_var" or (leaf == "weight" and _is_batchnorm(key, keys)):
            value = rng.uniform(0.5, 1.5, shape)
        elif leaf in ("running_mean", "bias") or len(shape) <= 1:
            value = rng.uniform(-0.1, 0.1, shape)
        else:  # conv [O, I, kh, kw] / linear [O, I]
            fan_in = int(np.prod(shape[1:]))
            bound = math.sqrt(6.0 / fan_in)
            value = rng.uniform(-bound, bound, shape)
        out[key] = np.asarray(value, dtype)
    return out


__all__ = ["seeded_state_dict"]
