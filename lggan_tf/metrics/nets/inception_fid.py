"""The FID Inception-v3 of pytorch-fid / TTUR (the 2015 TF graph `inception-2015-12-05`) as a Keras model.

    model = build()                                  # float [B, 299, 299, 3] in [-1, 1] -> {"pool3": [B, 2048]}
    feats = fid_features(model, images_uint8)        # pytorch-fid's input path + pool3 features, float32 [B, 2048]

Structure: torchvision's Inception-v3 with pytorch-fid's `FIDInceptionA/C/E_1/E_2` patches (mseitzer/pytorch-fid
`src/pytorch_fid/inception.py`): the branch average pools exclude the zero padding (TF 'SAME' average pooling), the
last block (Mixed_7c) max-pools its pool branch, the 1008-way `fc` is in the checkpoint but unused. Every
BasicConv2d (conv without bias + BatchNorm eps 1e-3 + ReLU) becomes one Conv2D with the BatchNorm folded in at
conversion. Weights: `pt_inception-2015-12-05-6726825d.pth` (pytorch-fid's release `fid_weights`).
"""

from __future__ import annotations

import numpy as np

from lggan_tf.metrics.nets import common

NAME = "inception_fid"
PROTOCOL = ("pytorch-fid / TTUR: uint8 RGB / 255, bilinear resize to 299x299 (F.interpolate, align_corners=False, "
            "no antialiasing), 2x - 1, 2048-d pool3 features; FID in float64 on these features")
CHECKPOINT = "pt_inception-2015-12-05-6726825d.pth"
BN_EPS = 1e-3
DIM = 2048
INTERMEDIATES = ("block0", "block1", "block2", "pool3")  # pytorch-fid's output blocks 0..3 (64, 192, 768, 2048 ch)


# --- the graph, written once against two back ends: Keras layers, or channel counting for the state_dict layout ---

def _inception_a(ops, x, p, pool_features):
    b1 = ops.conv(x, f"{p}.branch1x1", 64, 1)
    b5 = ops.conv(ops.conv(x, f"{p}.branch5x5_1", 48, 1), f"{p}.branch5x5_2", 64, 5)
    b3 = ops.conv(x, f"{p}.branch3x3dbl_1", 64, 1)
    b3 = ops.conv(ops.conv(b3, f"{p}.branch3x3dbl_2", 96, 3), f"{p}.branch3x3dbl_3", 96, 3)
    bp = ops.conv(ops.pool(x, "avg", 1, "same"), f"{p}.branch_pool", pool_features, 1)
    return ops.concat([b1, b5, b3, bp], p)


def _inception_b(ops, x, p):
    b3 = ops.conv(x, f"{p}.branch3x3", 384, 3, 2, "valid")
    bd = ops.conv(x, f"{p}.branch3x3dbl_1", 64, 1)
    bd = ops.conv(ops.conv(bd, f"{p}.branch3x3dbl_2", 96, 3), f"{p}.branch3x3dbl_3", 96, 3, 2, "valid")
    return ops.concat([b3, bd, ops.pool(x, "max", 2, "valid")], p)


def _inception_c(ops, x, p, c7):
    b1 = ops.conv(x, f"{p}.branch1x1", 192, 1)
    b7 = ops.conv(x, f"{p}.branch7x7_1", c7, 1)
    b7 = ops.conv(ops.conv(b7, f"{p}.branch7x7_2", c7, (1, 7)), f"{p}.branch7x7_3", 192, (7, 1))
    bd = ops.conv(x, f"{p}.branch7x7dbl_1", c7, 1)
    for i, (cout, k) in enumerate(((c7, (7, 1)), (c7, (1, 7)), (c7, (7, 1)), (192, (1, 7))), start=2):
        bd = ops.conv(bd, f"{p}.branch7x7dbl_{i}", cout, k)
    bp = ops.conv(ops.pool(x, "avg", 1, "same"), f"{p}.branch_pool", 192, 1)
    return ops.concat([b1, b7, bd, bp], p)


def _inception_d(ops, x, p):
    b3 = ops.conv(ops.conv(x, f"{p}.branch3x3_1", 192, 1), f"{p}.branch3x3_2", 320, 3, 2, "valid")
    b7 = ops.conv(x, f"{p}.branch7x7x3_1", 192, 1)
    b7 = ops.conv(ops.conv(b7, f"{p}.branch7x7x3_2", 192, (1, 7)), f"{p}.branch7x7x3_3", 192, (7, 1))
    b7 = ops.conv(b7, f"{p}.branch7x7x3_4", 192, 3, 2, "valid")
    return ops.concat([b3, b7, ops.pool(x, "max", 2, "valid")], p)


def _inception_e(ops, x, p, pool_kind):
    """pool_kind: 'avg' (FIDInceptionE_1, padding excluded) or 'max' (FIDInceptionE_2, the 2015 graph's quirk)."""
    b1 = ops.conv(x, f"{p}.branch1x1", 320, 1)
    b3 = ops.conv(x, f"{p}.branch3x3_1", 384, 1)
    b3 = ops.concat([ops.conv(b3, f"{p}.branch3x3_2a", 384, (1, 3)),
                     ops.conv(b3, f"{p}.branch3x3_2b", 384, (3, 1))], f"{p}.branch3x3")
    bd = ops.conv(ops.conv(x, f"{p}.branch3x3dbl_1", 448, 1), f"{p}.branch3x3dbl_2", 384, 3)
    bd = ops.concat([ops.conv(bd, f"{p}.branch3x3dbl_3a", 384, (1, 3)),
                     ops.conv(bd, f"{p}.branch3x3dbl_3b", 384, (3, 1))], f"{p}.branch3x3dbl")
    bp = ops.conv(ops.pool(x, pool_kind, 1, "same"), f"{p}.branch_pool", 192, 1)
    return ops.concat([b1, b3, bd, bp], p)


def _graph(ops, x) -> dict:
    """pytorch-fid's InceptionV3 blocks 0-3 (fid_inception_v3 modules, in torchvision's definition order)."""
    x = ops.conv(x, "Conv2d_1a_3x3", 32, 3, 2, "valid")
    x = ops.conv(x, "Conv2d_2a_3x3", 32, 3, 1, "valid")
    x = ops.conv(x, "Conv2d_2b_3x3", 64, 3)
    out = {"block0": ops.pool(x, "max", 2, "valid")}
    x = ops.conv(out["block0"], "Conv2d_3b_1x1", 80, 1, 1, "valid")
    x = ops.conv(x, "Conv2d_4a_3x3", 192, 3, 1, "valid")
    out["block1"] = x = ops.pool(x, "max", 2, "valid")
    for name, pool_features in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
        x = _inception_a(ops, x, name, pool_features)
    x = _inception_b(ops, x, "Mixed_6a")
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = _inception_c(ops, x, name, c7)
    out["block2"] = x
    x = _inception_d(ops, x, "Mixed_7a")
    x = _inception_e(ops, x, "Mixed_7b", "avg")
    x = _inception_e(ops, x, "Mixed_7c", "max")
    out["pool3"] = ops.global_pool(x)
    return out


class _LayoutOps:
    """Counts channels and records the PyTorch state_dict entries of each BasicConv2d, in creation order."""

    def __init__(self):
        self.entries, self.convs = [], []

    def conv(self, cin, name, cout, k, stride=1, padding="same"):
        kh, kw = (k, k) if isinstance(k, int) else k
        self.convs.append(name)
        self.entries.append((f"{name}.conv.weight", (cout, cin, kh, kw), "float32"))
        for leaf in ("weight", "bias", "running_mean", "running_var"):
            self.entries.append((f"{name}.bn.{leaf}", (cout,), "float32"))
        self.entries.append((f"{name}.bn.num_batches_tracked", (), "int64"))
        return cout

    def pool(self, c, kind, stride, padding):
        return c

    def concat(self, cs, name):
        return sum(cs)

    def global_pool(self, c):
        return c


class _KerasOps:
    def __init__(self, keras):
        self.k = keras

    def conv(self, x, name, cout, k, stride=1, padding="same"):
        conv = self.k.layers.Conv2D(cout, k, stride, padding, activation="relu", name=_keras_name(name))
        return conv(x)

    def pool(self, x, kind, stride, padding):
        layer = self.k.layers.AveragePooling2D if kind == "avg" else self.k.layers.MaxPooling2D
        return layer(3, stride, padding)(x)  # TF 'same' average pooling excludes the padding (count_include_pad=False)

    def concat(self, xs, name):
        return self.k.layers.Concatenate(axis=-1, name=_keras_name(name) + "_concat")(xs)

    def global_pool(self, x):
        return self.k.layers.GlobalAveragePooling2D(name="pool3")(x)


def _keras_name(torch_prefix: str) -> str:
    return torch_prefix.replace(".", "_")


def layout():
    """[(key, shape, dtype)] of pytorch-fid's FID Inception state_dict, in its order (incl. the unused 1008-way fc)."""
    ops = _LayoutOps()
    _graph(ops, 3)
    return ops.entries + [("fc.weight", (1008, DIM), "float32"), ("fc.bias", (1008,), "float32")]


def build(intermediates: bool = False, input_size: int | None = 299):
    """Keras model: float [B, S, S, 3] in [-1, 1] -> {"pool3": [B, 2048]} (+ block0..block2 maps if intermediates)."""
    import keras

    inp = keras.Input((input_size, input_size, 3), name="image")
    out = _graph(_KerasOps(keras), inp)
    return keras.Model(inp, out if intermediates else {"pool3": out["pool3"]}, name=NAME)


def convert_state_dict(state: dict) -> dict:
    """pytorch-fid state_dict -> {keras variable path: array} (BatchNorm folded); ConversionError on a wrong file."""
    state = common.strip_prefix(state)
    entries = layout()
    common.check_state_dict(state, entries, NAME)
    ops = _LayoutOps()
    _graph(ops, 3)
    weights = {}
    for name in ops.convs:
        kernel, bias = common.fold_batchnorm(state, f"{name}.conv", f"{name}.bn", BN_EPS)
        weights[f"{_keras_name(name)}/kernel"], weights[f"{_keras_name(name)}/bias"] = kernel, bias
    return weights


def preprocess(images, size: int = 299):
    """pytorch-fid's input path: uint8 (or float [0, 255]) [B, H, W, 3] -> float32 [B, 299, 299, 3] in [-1, 1]:
    x / 255, bilinear resize as F.interpolate(align_corners=False) (half-pixel centres, no antialias), 2x - 1."""
    import tensorflow as tf

    x = tf.cast(images, tf.float32) / 255.0
    if x.shape[1] != size or x.shape[2] != size:
        x = tf.image.resize(x, (size, size), "bilinear", antialias=False)
    return 2.0 * x - 1.0


def save_converted(model, out_dir: str, source: str | None = None) -> str:
    return common.save_converted(model, out_dir, NAME, PROTOCOL, source)


def load_converted(out_dir: str, flag: str = "--inception_weights"):
    return common.load_converted(out_dir, NAME, build, flag)[0]


def expected_parameters() -> int:
    """Folded conv parameters (kernels + biases) of the feature extractor."""
    return int(sum(np.prod(s) + s[0] for k, s, _ in layout() if k.endswith(".conv.weight")))


__all__ = ["BN_EPS", "CHECKPOINT", "DIM", "NAME", "PROTOCOL", "build", "convert_state_dict", "layout",
           "load_converted", "preprocess", "save_converted"]
