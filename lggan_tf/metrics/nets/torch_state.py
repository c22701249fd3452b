"""PyTorch state_dict -> Keras variables for models whose layers are named like the PyTorch modules (the segmenters).

    layout = torch_layout(model)                  # [(key, torch shape, "float32")] in the model's layer order
    weights = convert_named(state, model, "drn_d_105")   # {keras variable path: array}; ConversionError if wrong
    common.assign_weights(build(), weights)

Layer kinds and their PyTorch parameters: Conv2D <- `.weight` [O, I, kh, kw] (+ `.bias`); BatchNormalization <-
`.weight/.bias/.running_mean/.running_var` (`.num_batches_tracked` accepted and unused); DepthwiseConvTranspose2D <-
`.weight` [C, 1, k, k]. A DataParallel `module.` prefix on every key is removed.
"""

from __future__ import annotations

import keras
import numpy as np

from lggan_tf.metrics.nets import common
from lggan_tf.metrics.nets.torch_layers import DepthwiseConvTranspose2D


def _layer_params(layer):
    """[(suffix, torch shape, to_keras)] for one layer, in the order of layer.weights."""
    if layer.__class__.__name__ == "Conv2D":
        params = [("weight", tuple(np.array(layer.kernel.shape)[[3, 2, 0, 1]]), common.conv_kernel)]
        if layer.use_bias:
            params.append(("bias", (layer.filters,), lambda a: a))
        return params
    if layer.__class__.__name__ == "BatchNormalization":
        c = layer.gamma.shape[0]
        return [(s, (c,), lambda a: a) for s in ("weight", "bias", "running_mean", "running_var")]
    if isinstance(layer, DepthwiseConvTranspose2D):
        k, c = layer.kernel, layer.channels
        return [("weight", (c, 1, k, k), lambda a: a[:, 0].transpose(1, 2, 0))]
    return []


def _walk(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _walk(layer)
        else:
            yield layer


def torch_layout(model) -> list[tuple[str, tuple[int, ...], str]]:
    """The PyTorch keys, shapes and dtypes `model` takes, in the layers' creation order (torch_layers.ordered: the
    reference state_dict's order)."""
    layers = sorted(_walk(model), key=lambda layer: getattr(layer, "torch_rank", -1))
    return [(f"{layer.name}.{suffix}", tuple(int(s) for s in shape), "float32")
            for layer in layers for suffix, shape, _ in _layer_params(layer)]


UNUSED_BUFFERS = (".num_batches_tracked",)


def convert_named(state: dict, model, network: str, unused=UNUSED_BUFFERS) -> dict:
    """{keras variable path: float32 array} of `model` from a PyTorch state_dict; ConversionError naming missing /
    unexpected keys and shape mismatches (checked before anything is converted). Keys ending in `unused` (buffers
    that inference never reads) are accepted and dropped."""
    state = common.strip_prefix(state)
    ignore = [k for k in state if k.endswith(tuple(unused))]
    common.check_state_dict(state, torch_layout(model), network, ignore=ignore)
    weights = {}
    for layer in _walk(model):
        for var, (suffix, _, to_keras) in zip(layer.weights, _layer_params(layer)):
            weights[var.path] = np.asarray(to_keras(np.asarray(state[f"{layer.name}.{suffix}"], np.float32)))
    return weights


__all__ = ["UNUSED_BUFFERS", "convert_named", "torch_layout"]
