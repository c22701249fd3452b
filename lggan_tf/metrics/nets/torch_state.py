"""PyTorch state_dict <-> Keras model whose layers are named like the PyTorch modules (the segmenters' converters).

    layout = torch_layout(model)                  # [(key, torch shape)] the model expects, e.g. ("seg.weight", ...)
    assign_state_dict(model, state)               # checks keys and shapes (ConversionError), then sets the weights

Layer kinds and their PyTorch parameters: Conv2D <- `.weight` [O, I, kh, kw] (+ `.bias`); BatchNormalization <-
`.weight/.bias/.running_mean/.running_var` (`.num_batches_tracked` accepted and unused); DepthwiseConvTranspose2D <-
`.weight` [C, 1, k, k]. A DataParallel `module.` prefix on every key is removed.
"""

from __future__ import annotations

import keras
import numpy as np

from lggan_tf.metrics.nets.torch_layers import DepthwiseConvTranspose2D

try:  # the shared error type of the converters (lggan_tf.metrics.nets)
    from lggan_tf.metrics.nets.errors import ConversionError
except ImportError:  # pragma: no cover - before the shared package is merged
    class ConversionError(ValueError):
        """A checkpoint that does not fit the network: missing / unexpected keys or shape mismatches."""

_SHOWN = 5


def _layer_params(layer):
    """[(suffix, torch shape, to_keras)] for one layer; to_keras maps the torch array to the Keras weight."""
    if layer.__class__.__name__ == "Conv2D":
        kh, kw, cin, cout = layer.kernel.shape
        params = [("weight", (cout, cin, kh, kw), lambda a: a.transpose(2, 3, 1, 0))]
        if layer.use_bias:
            params.append(("bias", (cout,), lambda a: a))
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


def torch_layout(model) -> list[tuple[str, tuple[int, ...]]]:
    """The PyTorch keys and shapes `model` takes, in the model's layer order."""
    return [(f"{layer.name}.{suffix}", shape) for layer in _walk(model) for suffix, shape, _ in _layer_params(layer)]


def _listing(keys) -> str:
    keys = sorted(keys)
    more = f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more + f" ({len(keys)} in all)"


def strip_prefix(state: dict, prefix: str = "module.") -> dict:
    """Remove a prefix that every key carries (DataParallel's `module.`)."""
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return dict(state)


def check_state_dict(model, state: dict, network: str) -> dict:
    """Raise ConversionError naming missing / unexpected keys and shape mismatches; returns the cleaned state."""
    state = {k: v for k, v in strip_prefix(state).items() if not k.endswith(".num_batches_tracked")}
    layout = dict(torch_layout(model))
    problems = []
    missing = set(layout) - set(state)
    unexpected = set(state) - set(layout)
    if missing:
        problems.append(f"missing keys {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_listing(unexpected)}")
    bad = sorted(k for k in set(layout) & set(state) if tuple(np.shape(state[k])) != tuple(layout[k]))
    if bad:
        shown = "; ".join(f"{k}: checkpoint {tuple(np.shape(state[k]))} vs expected {tuple(layout[k])}"
                          for k in bad[:_SHOWN])
        more = f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
        problems.append(f"shape mismatches {shown}{more}")
    if problems:
        raise ConversionError(f"not a {network} checkpoint: " + "; ".join(problems))
    return state


def assign_state_dict(model, state: dict, network: str) -> None:
    """Check `state` against the model (ConversionError) and set every weight from it (float32)."""
    state = check_state_dict(model, state, network)
    for layer in _walk(model):
        params = _layer_params(layer)
        if params:
            layer.set_weights([np.asarray(to_keras(np.asarray(state[f"{layer.name}.{s}"], np.float32)))
                               for s, _, to_keras in params])


__all__ = ["ConversionError", "assign_state_dict", "check_state_dict", "strip_prefix", "torch_layout"]
