"""LPIPS v0.1 (Zhang et al. 2018; richzhang/PerceptualSimilarity `lpips/lpips.py`) with AlexNet-lin or VGG16-lin.

    model = build("alex")                        # (x0, x1) float [B, H, W, 3] in [-1, 1] -> {"lpips": [B], "layer0".."layer4"}
    d = model([x0, x1])["lpips"]

d(x0, x1) = sum_l mean_hw sum_c w_lc (n(f_l(s(x0))) - n(f_l(s(x1))))^2: s = LPIPS' ScalingLayer ((x - shift) /
scale), f_l = torchvision backbone ReLU taps, n = division by the channel L2 norm + 1e-10, w_l = the 1x1 conv
`lin{l}.model.1.weight` [1, C_l, 1, 1] of `lpips/weights/v0.1/{alex,vgg}.pth` (no bias), spatial mean per layer.

Checkpoint forms accepted by convert_state_dict (all to the same weights):
- torchvision backbone + heads, merged: `features.N.weight/bias` (+ the unused `classifier.*`) and `linL.model.1.weight`
  (e.g. `--pytorch_checkpoint alexnet-owt-7be5be79.pth,alex.pth`);
- a whole `lpips.LPIPS(net=...)` state_dict: `net.sliceK.N.weight/bias`, `linL.model.1.weight` (and its alias
  `lins.L.model.1.weight`), `scaling_layer.*`.
"""

from __future__ import annotations

import types

import numpy as np

from lggan_tf.metrics.nets import common, torchvision_backbones as tvb

SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
VARIANTS = {  # name -> (backbone convs, channels at the five taps, features builder, published heads file)
    "alex": (tvb.ALEXNET_CONVS, (64, 192, 384, 256, 256), tvb.alexnet_features, "lpips/weights/v0.1/alex.pth"),
    "vgg": (tvb.VGG16_CONVS, (64, 128, 256, 512, 512), tvb.vgg16_features, "lpips/weights/v0.1/vgg.pth"),
}
PROTOCOL = ("LPIPS v0.1: uint8 RGB -> x / 127.5 - 1, ScalingLayer, backbone ReLU taps, channel unit-normalisation, "
            "squared difference, 1x1 linear heads, spatial mean, sum over the five layers; images at their own size "
            "(real and generated paired by name)")


def layout(net: str = "alex") -> list:
    """[(key, shape, dtype)]: torchvision backbone convs, then the five linear heads (the canonical form)."""
    convs, channels, _, _ = VARIANTS[net]
    heads = [(f"lin{i}.model.1.weight", (1, c, 1, 1), "float32") for i, c in enumerate(channels)]
    return tvb.conv_layout(convs) + heads


def _canonical(state: dict) -> dict:
    """LPIPS-package keys (net.sliceK.N.*) -> torchvision keys (features.N.*); the scaling layer's constants are
    checked (they are not weights) and dropped; a DataParallel prefix is removed."""
    state = common.strip_prefix(state)
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "scaling_layer":
            want = SHIFT if parts[1] == "shift" else SCALE
            if not np.allclose(np.reshape(value, -1), want, atol=1e-6):
                raise common.ConversionError(f"{key} = {np.reshape(value, -1).tolist()}, expected LPIPS v0.1's {want}")
            continue
        if parts[0] == "net" and len(parts) == 4 and parts[1].startswith("slice"):
            key = f"features.{parts[2]}.{parts[3]}"
        out[key] = value
    for key in [k for k in out if k.startswith("lins.")]:  # the ModuleList alias of linN in whole-model dicts
        alias = "lin" + key[len("lins."):]
        if alias in out and not np.array_equal(out[alias], out[key]):
            raise common.ConversionError(f"{key} differs from {alias} (they are the same module in LPIPS)")
        out[alias] = out.pop(key)
    return out


def convert_state_dict(state: dict, net: str = "alex") -> dict:
    """{keras variable path: array} of LPIPS-`net` from either checkpoint form; ConversionError on a wrong file."""
    convs, _, _, _ = VARIANTS[net]
    state = _canonical(state)
    ignore = [k for k in state if k.startswith("classifier.")]  # torchvision's classifier: not used by LPIPS
    common.check_state_dict(state, layout(net), f"lpips_{net}", ignore=ignore)
    weights = tvb.convert_features(state, convs)
    for i in range(5):
        weights[f"lin{i}/kernel"] = common.conv_kernel(state[f"lin{i}.model.1.weight"])
    return weights


def build(net: str = "alex"):
    """Keras LPIPS: inputs (x0, x1) float [B, H, W, 3] in [-1, 1] -> {"lpips": [B], "layer0".."layer4": [B]}."""
    import keras
    from keras import ops

    convs, channels, features, _ = VARIANTS[net]
    x0, x1 = keras.Input((None, None, 3), name="x0"), keras.Input((None, None, 3), name="x1")
    x = ops.concatenate([x0, x1], axis=0)  # one backbone pass over both images
    x = (x - np.array(SHIFT, np.float32)) / np.array(SCALE, np.float32)
    outputs, total = {}, None
    for i, f in enumerate(features(keras, x)):
        f = f / (ops.sqrt(ops.sum(f * f, axis=-1, keepdims=True)) + 1e-10)
        f0, f1 = ops.split(f, 2, axis=0)
        diff = ops.square(f0 - f1)
        head = keras.layers.Conv2D(1, 1, use_bias=False, name=f"lin{i}")(diff)
        outputs[f"layer{i}"] = layer = ops.mean(head, axis=(1, 2, 3))
        total = layer if total is None else total + layer
    outputs["lpips"] = total
    return keras.Model([x0, x1], outputs, name=f"lpips_{net}")


def save_converted(model, out_dir: str, net: str = "alex", source=None) -> str:
    return common.save_converted(model, out_dir, f"lpips_{net}", PROTOCOL, source, extra={"backbone": net})


def load_converted(out_dir: str, flag: str = "--lpips_weights"):
    """(model, net) of a converted lpips_alex / lpips_vgg directory (whichever it holds)."""
    import json
    import os

    path = os.path.join(out_dir or "", common.META_FILE)
    name = "lpips_alex"
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            name = json.load(f).get("name", name)
    if name not in ("lpips_alex", "lpips_vgg"):
        name = "lpips_alex"  # read_meta below names what the directory holds instead
    net = name.split("_", 1)[1]
    return common.load_converted(out_dir, name, build, flag, net=net)[0], net


def variant(name: str):
    """The per-network module interface of lpips_alex / lpips_vgg (lggan_tf.metrics.nets.network)."""
    net = name.split("_", 1)[1]
    return types.SimpleNamespace(
        NAME=name, PROTOCOL=PROTOCOL, layout=lambda: layout(net), build=lambda **kw: build(net, **kw),
        convert_state_dict=lambda state: convert_state_dict(state, net),
        save_converted=lambda model, out_dir, source=None: save_converted(model, out_dir, net, source),
        load_converted=lambda out_dir, flag="--lpips_weights": load_converted(out_dir, flag)[0])


__all__ = ["PROTOCOL", "SCALE", "SHIFT", "VARIANTS", "build", "convert_state_dict", "layout", "load_converted",
           "save_converted", "variant"]
