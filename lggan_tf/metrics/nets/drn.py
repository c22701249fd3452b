"""DRN-D-105 + DRNSeg head (fyu/drn, `drn-d-105_ms_cityscapes.pth`): the Cityscapes segmenter of Table 1 (19 train ids).

    model = build()                             # RGB in [0, 1], [B, H, W, 3] -> logits [B, H, W, 19] (H, W % 8 == 0)
    convert_state_dict(torch_state) -> model    # keys base.*, seg.*, up.weight of DRNSeg (segment.py)

Architecture (drn.py `drn_d_105`, arch D, Bottleneck [1, 1, 3, 4, 23, 3, 1, 1]): base.0 conv 7x7 16 + BN + ReLU;
base.1 / base.2 conv 3x3 (16, 32 stride 2); base.3..6 Bottleneck stages (64 s2, 128 s2, 256 dilation 2, 512
dilation 4); base.7 / base.8 conv 3x3 512 (dilation 2, 1); `seg` 1x1 conv to the classes (output stride 8); `up`
the grouped ConvTranspose2d(k=16, s=8, p=4) with its stored (bilinear) kernel. Input normalisation with the
Cityscapes mean / std of datasets/cityscapes/info.json. The argmax of the `up` output is DRN's prediction (its
LogSoftmax does not change it).

STAGE_OUTPUTS names the layer ending each base.<i> (for bisecting against the reference).
"""

from __future__ import annotations

import sys

import keras

from lggan_tf.metrics.nets import segmenters
from lggan_tf.metrics.nets.torch_layers import (DepthwiseConvTranspose2D, ImageNormalize, batch_norm, conv, ordered, relu,
                                                   torch_bottleneck)
from lggan_tf.metrics.segmentation import CITYSCAPES_TRAIN_IDS

NAME = "drn_d_105"
MEAN = (0.29010095242892997, 0.32808144844279574, 0.28696394422942517)
STD = (0.1829540508368939, 0.18656561047509476, 0.18447508988480435)
CITYSCAPES_CLASSES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
                      "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
                      "motorcycle", "bicycle")
PROTOCOL = ("Cityscapes (Table 1): the generated 256x512 RGB image, /255, normalised with DRN's Cityscapes mean / std, "
            "single scale (no --ms, as CLADE); labels nearest-resized to 256x512, the 35 label ids mapped to the 19 "
            "train ids, all others (void, ids 0-6, 9, 10, 14-16, 18, 29, 30) ignored; argmax of the DRNSeg `up` "
            "output. Weights: drn-d-105_ms_cityscapes.pth (http://go.yf.io/drn-cityscapes-models); reference fyu/drn@"
            "d75db2ee7070426db7a9264ee61cf489f8cf178c segment.py DRNSeg / test().")
SEGMENTER = {"num_classes": 19, "input_size": [256, 512], "input_range": "0,1", "label_map": "cityscapes_train_ids",
             "class_names": list(CITYSCAPES_CLASSES)}
assert len(CITYSCAPES_TRAIN_IDS) == SEGMENTER["num_classes"]

# (stage planes, blocks, stride, dilation) of base.3 .. base.6.
_STAGES = ((64, 3, 2, 1), (128, 4, 2, 1), (256, 23, 1, 2), (512, 3, 1, 4))
STAGE_OUTPUTS = tuple([f"base.{i}.2" for i in range(3)] + [f"base.{i}.{n - 1}.relu" for i, (_, n, _, _) in
                                                           enumerate(_STAGES, start=3)] + ["base.7.2", "base.8.2"])


def _conv_bn_relu(x, idx: int, ch: int, kernel: int = 3, stride: int = 1, dilation: int = 1):
    """DRN's _make_conv_layers with one conv: base.<idx>.0 conv, base.<idx>.1 BN, base.<idx>.2 ReLU."""
    pad = dilation if kernel == 3 else kernel // 2
    x = batch_norm(conv(x, ch, kernel, f"base.{idx}.0", stride, pad, dilation), f"base.{idx}.1")
    return relu(x, f"base.{idx}.2")


def build(num_classes: int = 19) -> keras.Model:
    """RGB [B, H, W, 3] in [0, 1] -> the DRNSeg `up` logits [B, H, W, num_classes] (H, W multiples of 8)."""
    inp = keras.Input((None, None, 3), name="image")
    x = ImageNormalize(MEAN, STD, name="normalize")(inp)
    x = _conv_bn_relu(x, 0, 16, kernel=7)
    x = _conv_bn_relu(x, 1, 16)
    x = _conv_bn_relu(x, 2, 32, stride=2)
    for idx, (planes, blocks, stride, dilation) in enumerate(_STAGES, start=3):
        for b in range(blocks):
            x = torch_bottleneck(x, f"base.{idx}.{b}", planes, stride if b == 0 else 1, dilation, downsample=b == 0)
    x = _conv_bn_relu(x, 7, 512, dilation=2)
    x = _conv_bn_relu(x, 8, 512)
    seg = conv(x, num_classes, 1, "seg", bias=True)
    return keras.Model(inp, ordered(DepthwiseConvTranspose2D(16, 8, 4, name="up"))(seg), name=NAME)


def build_kwargs(model) -> dict:
    return {"num_classes": int(model.output_shape[-1])}


def layout(num_classes: int = 19) -> list:
    """[(key, shape, dtype)] of DRNSeg's state_dict (num_batches_tracked aside), in its order."""
    return segmenters.layout(sys.modules[__name__], num_classes=num_classes)


def convert_state_dict(state: dict, num_classes: int = 19) -> dict:
    """DRNSeg state_dict (keys base.*, seg.*, up.weight) -> {keras variable path: array}; ConversionError naming
    missing / unexpected / mis-shaped keys."""
    return segmenters.convert(sys.modules[__name__], state, num_classes=num_classes)


def save_converted(model, out_dir: str, source: str | None = None) -> str:
    return segmenters.save(sys.modules[__name__], model, out_dir, source)


def load_converted(out_dir: str, flag: str = "--segmenter") -> keras.Model:
    return segmenters.load(out_dir, flag, NAME)[0]


__all__ = ["NAME", "PROTOCOL", "SEGMENTER", "STAGE_OUTPUTS", "build", "build_kwargs", "convert_state_dict", "layout",
           "load_converted", "save_converted"]
