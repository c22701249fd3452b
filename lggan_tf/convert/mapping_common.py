"""Key consumer and layout conversions shared by the official-checkpoint mappings.

A mapping walks one official state_dict with a `StateConsumer`: each `conv`/`deconv`/`linear`/... call takes the
official keys of one layer, converts their layout to ours and records the assignment to one of our variables. Nothing
is written to a variable until `StateConsumer.apply()`, after `check()` found every official key used (or declared
dead weight) and every expected key present, so a checkpoint that does not fit leaves the model untouched.

Layouts (PyTorch -> TF):
  Conv2d weight [out, in, kh, kw]          -> kernel [kh, kw, in, out]
  ConvTranspose2d weight [in, out, kh, kw] -> Conv2DTranspose kernel [kh, kw, out, in] (the same transpose)
  Linear weight [out, in]                  -> Dense kernel [in, out]
  spectral norm weight_orig, weight_u [out], weight_v [in*kh*kw]: PyTorch flattens W as [out, (in, kh, kw)], our
    Conv as [out, (kh, kw, in)], so v is reordered; u is unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np


class CheckpointMismatch(ValueError):
    """The state_dict does not fit the model built from the requested --model/--dataset/sizes (message: one line)."""


def _list(keys, limit=4) -> str:
    keys = sorted(keys)
    shown = ", ".join(keys[:limit])
    return shown + (f" (and {len(keys) - limit} more)" if len(keys) > limit else "")


def conv_kernel(a):
    """Conv2d / ConvTranspose2d weight -> TF kernel (both are transpose(2, 3, 1, 0))."""
    return np.ascontiguousarray(a.transpose(2, 3, 1, 0))


def torch_conv_shape(shape):
    return (shape[3], shape[2], shape[0], shape[1])


def spectral_v(v, kernel_shape):
    """PyTorch weight_v over (in, kh, kw) -> ours over (kh, kw, in); kernel_shape is our [kh, kw, in, out]."""
    kh, kw, cin, _ = kernel_shape
    return np.ascontiguousarray(v.reshape(cin, kh, kw).transpose(1, 2, 0).reshape(-1))


def solve_v(weight_orig, weight, u):
    """weight_v of a checkpoint saved before PyTorch 1.0 (which stored `weight` = W / sigma but no `weight_v`), as
    torch's SpectralNormLoadStateDictPreHook recomputes it: v = pinv(W^T W) W^T u, rescaled so u.W v = sigma."""
    w = weight_orig.reshape(weight_orig.shape[0], -1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = float(np.nanmean(weight_orig / weight))
    v = np.linalg.pinv(w.T @ w) @ w.T @ u.astype(np.float64)
    v *= sigma / float(u @ (w @ v))
    return v.astype(np.float32)


@dataclasses.dataclass
class _Assignment:
    variable: object
    value: np.ndarray
    keys: tuple


class StateConsumer:
    """Takes official keys, converts them and records assignments; counts dead weight; reports what is left.

    state: {key: np.ndarray} (a `module.` prefix already stripped); source: the file name used in messages.
    keep_values=False checks keys and shapes only (nothing to apply; e.g. full-size key sets without weights).
    """

    def __init__(self, state, source: str, keep_values: bool = True):
        self.state, self.source, self.keep_values = dict(state), source, bool(keep_values)
        self.used: set[str] = set()
        self.missing: list[str] = []
        self.dead: list[str] = []
        self.shape_errors: list[str] = []
        self.assignments: list[_Assignment] = []

    # --- reading ------------------------------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self.state

    def take(self, key: str):
        if key not in self.state:
            self.missing.append(key)
            return None
        self.used.add(key)
        return np.asarray(self.state[key])

    def skip_dead(self, *keys: str) -> None:
        """Official dead weight (built but never used by the forward pass): consumed and counted, not assigned."""
        for key in keys:
            if key in self.state and key not in self.used:
                self.used.add(key)
                self.dead.append(key)

    def skip_dead_suffix(self, suffix: str) -> None:
        self.skip_dead(*[k for k in self.state if k.endswith(suffix)])

    # --- assigning ----------------------------------------------------------------------------------------------
    def _record(self, variable, value, keys, torch_shape_of):
        expected = tuple(int(d) for d in variable.shape)
        if tuple(value.shape) != expected:
            got = tuple(self.state[keys[0]].shape) if len(keys) == 1 else (len(keys), *self.state[keys[0]].shape)
            self.shape_errors.append(f"{keys[0]} has shape {list(got)} but the model needs "
                                     f"{list(torch_shape_of(expected))} (TF variable {variable.path} {list(expected)})")
            return
        value = value.astype(np.float32) if self.keep_values else None
        self.assignments.append(_Assignment(variable, value, tuple(keys)))

    def tensor(self, key: str, variable) -> None:
        """A bias / running statistic / u vector: copied as it is."""
        a = self.take(key)
        if a is not None:
            self._record(variable, a, (key,), lambda s: s)

    def conv(self, prefix: str, layer, bias: bool = True) -> None:
        """A plain Conv2d `prefix.weight` (+ `prefix.bias`) into our Conv (kernel [kh, kw, in, out], bias)."""
        a = self.take(prefix + ".weight")
        if a is not None:
            self._record(layer.kernel, conv_kernel(a), (prefix + ".weight",), torch_conv_shape)
        if bias:
            self.tensor(prefix + ".bias", layer.bias)

    def spectral_conv(self, prefix: str, layer, bias: bool = True) -> None:
        """A spectral-normed Conv2d (weight_orig, weight_u, weight_v [, bias]) into our spectral Conv."""
        w = self.take(prefix + ".weight_orig")
        u = self.take(prefix + ".weight_u")
        if self.has(prefix + ".weight_v"):
            v = self.take(prefix + ".weight_v")
        elif w is not None and u is not None and self.has(prefix + ".weight"):  # saved by PyTorch < 1.0
            v = solve_v(w, self.take(prefix + ".weight"), u)
        else:
            v = self.take(prefix + ".weight_v")
        if w is not None:
            self._record(layer.kernel, conv_kernel(w), (prefix + ".weight_orig",), torch_conv_shape)
        if u is not None:
            self._record(layer.vector_u, u, (prefix + ".weight_u",), lambda s: s)
        if v is not None and w is not None and w.ndim == 4 and len(layer.kernel.shape) == 4:
            kh, kw, cin, _ = (int(d) for d in layer.kernel.shape)
            if v.size == kh * kw * cin:
                v = spectral_v(v, (kh, kw, cin, None))
            self._record(layer.vector_v, v, (prefix + ".weight_v",), lambda s: s)
        if bias:
            self.tensor(prefix + ".bias", layer.bias)

    def deconv(self, prefix: str, layer) -> None:
        """ConvTranspose2d `prefix.weight` [in, out, kh, kw] + bias -> our ConvTranspose (kernel [kh, kw, out, in])."""
        kernel, bias = transposed_conv_variables(layer)
        a = self.take(prefix + ".weight")
        if a is not None:
            self._record(kernel, conv_kernel(a), (prefix + ".weight",), torch_conv_shape)
        self.tensor(prefix + ".bias", bias)

    def linear(self, prefix: str, dense, out_permutation=None, in_permutation=None) -> None:
        """Linear `prefix.weight` [out, in] + bias into a Keras Dense (kernel [in, out]). The permutations map our
        output / input index to the official one (NCHW vs NHWC flattening)."""
        w = self.take(prefix + ".weight")
        b = self.take(prefix + ".bias")
        if w is not None:
            k = w.T
            if in_permutation is not None and k.shape[0] == in_permutation.size:
                k = k[in_permutation]
            if out_permutation is not None and k.shape[1] == out_permutation.size:
                k = k[:, out_permutation]
            self._record(dense.kernel, np.ascontiguousarray(k), (prefix + ".weight",), lambda s: (s[1], s[0]))
        if b is not None:
            if out_permutation is not None and b.shape[0] == out_permutation.size:
                b = b[out_permutation]
            self._record(dense.bias, b, (prefix + ".bias",), lambda s: s)

    def resnet_blocks(self, blocks) -> None:
        """The official pix2pixHD-style residual trunk `resnet_blocks<i>.conv1/conv2` (i from 1) into our blocks'
        conv_0 / conv_1, in order."""
        for i, block in enumerate(blocks, start=1):
            self.conv(f"resnet_blocks{i}.conv1", block.conv_0)
            self.conv(f"resnet_blocks{i}.conv2", block.conv_1)

    def stacked_convs(self, prefixes, layer) -> None:
        """N per-class Conv2d (`p.weight` [out, in, k, k], `p.bias`) into our class-partitioned ClassConv
        (kernel [N, k, k, in, out], bias [N, out]); class i of ours is prefixes[i]."""
        weights = [self.take(p + ".weight") for p in prefixes]
        biases = [self.take(p + ".bias") for p in prefixes]
        if any(w is None for w in weights) or any(b is None for b in biases):
            return
        if len({w.shape for w in weights}) != 1:
            self.shape_errors.append(f"{prefixes[0]}.weight ..: the per-class convs have different shapes")
            return
        keys = tuple(p + ".weight" for p in prefixes)
        self._record(layer.kernel, np.stack([conv_kernel(w) for w in weights]), keys,
                     lambda s: (s[0], s[4], s[3], s[1], s[2]))
        self._record(layer.bias, np.stack(biases), tuple(p + ".bias" for p in prefixes), lambda s: s)

    def batch_norm_stats(self, prefix: str, norm) -> None:
        """Affine-free BatchNorm / tracked InstanceNorm: running_mean, running_var (num_batches_tracked: dead)."""
        self.tensor(prefix + ".running_mean", norm.moving_mean)
        self.tensor(prefix + ".running_var", norm.moving_variance)
        self.skip_dead(prefix + ".num_batches_tracked")

    # --- result -------------------------------------------------------------------------------------------------
    @property
    def unexpected(self) -> list[str]:
        return sorted(set(self.state) - self.used)

    def check(self, what: str, hint: str = "") -> None:
        """Raise CheckpointMismatch (one line) unless every key was used or dead and none was missing."""
        hint = f"; {hint}" if hint else ""
        if self.missing or self.unexpected:
            parts = []
            if self.missing:
                parts.append(f"{len(self.missing)} missing key(s): {_list(self.missing)}")
            if self.unexpected:
                parts.append(f"{len(self.unexpected)} unexpected key(s): {_list(self.unexpected)}")
            raise CheckpointMismatch(f"{self.source} does not fit {what}: " + "; ".join(parts) + hint)
        if self.shape_errors:
            more = f" (and {len(self.shape_errors) - 1} more shape mismatches)" if len(self.shape_errors) > 1 else ""
            raise CheckpointMismatch(f"{self.source} does not fit {what}: {self.shape_errors[0]}{more}{hint}")

    def apply(self) -> None:
        if not self.keep_values:
            raise RuntimeError("StateConsumer(keep_values=False) checked shapes only; there is nothing to apply")
        for a in self.assignments:
            a.variable.assign(a.value)

    def summary(self) -> dict:
        return {"file": self.source, "keys": len(self.state), "assigned_variables": len(self.assignments),
                "dead_keys_skipped": len(self.dead), "dead_keys": sorted(self.dead)}


def transposed_conv_variables(layer):
    """(kernel, bias) of our ConvTranspose layer, found by name so the mapping does not depend on its internals."""
    kernel = bias = None
    for v in layer.weights:
        leaf = v.path.rsplit("/", 1)[-1]
        if leaf == "kernel":
            kernel = v
        elif leaf == "bias":
            bias = v
    if kernel is None or bias is None:
        raise RuntimeError(f"ConvTranspose {layer.name}: expected a 'kernel' and a 'bias' variable")
    return kernel, bias
