"""DeepLab-v2 ResNet-101 MSC (kazuto1011/deeplab-pytorch, `deeplabv2_resnet101_msc-cocostuff164k-100000.pth`): the
COCO-Stuff segmenter of Table 3 (182 classes).

    model = build()                             # RGB in [0, 255], [B, H, W, 3] -> logits [B, h, w, 182] (stride 8)
    convert_state_dict(torch_state)             # MSC state_dict: base.layer1..5.*, base.aspp.c0..3.*

libs/models: `_Stem` (7x7/2 conv + BN + ReLU, MaxPool2d(3, 2, 1, ceil_mode=True)), four `_ResLayer`s of Caffe-style
bottlenecks (stride on the 1x1 `reduce`; layer4 dilation 2, layer5 dilation 4; output stride 8), `_ASPP` = sum of
four 3x3 convs with rates 6, 12, 18, 24. `MSC` runs the base on the image and on its 0.5x and 0.75x bilinear
(align_corners=False) downscales, upsamples those logits to the full-scale logits' size and takes the pixel-wise
max. Input: BGR minus the Caffe mean (104.008, 116.669, 122.675). main.py test() upsamples the logits bilinearly to
the label size (Segmenter.logits does the same).
"""

from __future__ import annotations

import sys

import keras

from lggan_tf.metrics.nets import segmenters
from lggan_tf.metrics.nets.torch_layers import ImageNormalize, TorchMaxPool2D, TorchResize, batch_norm, conv, relu

NAME = "deeplabv2_coco"
MEAN_BGR = (104.008, 116.669, 122.675)
SCALES = (0.5, 0.75)
RATES = (6, 12, 18, 24)
PROTOCOL = ("COCO-Stuff (Table 3): the generated 256x256 RGB image in [0, 255], BGR minus the Caffe mean, DeepLab-v2 "
            "MSC (scales 1, 0.5, 0.75, pixel-wise max), logits bilinearly upsampled (align_corners=False) to 256x256; "
            "labels nearest-resized to 256x256 (CC-FPSE), the 182 COCO-Stuff ids 0-181, 255 (unlabeled) ignored. "
            "Weights: deeplabv2_resnet101_msc-cocostuff164k-100000.pth (github.com/kazuto1011/deeplab-pytorch "
            "releases v1.0); reference kazuto1011/deeplab-pytorch@4219467fa5de07985f834f1bd8c04c186dc8f6d8 "
            "libs/models/{resnet,deeplabv2,msc}.py, main.py test().")
SEGMENTER = {"num_classes": 182, "input_size": [256, 256], "input_range": "0,255", "label_map": None,
             "class_names": []}
# (_ResLayer name, blocks, out channels, stride, dilation) of layer2 .. layer5.
_LAYERS = (("layer2", 3, 256, 1, 1), ("layer3", 4, 512, 2, 1), ("layer4", 23, 1024, 1, 2), ("layer5", 3, 2048, 1, 4))


def _conv_bn(x, name: str, ch: int, kernel: int, stride: int = 1, dilation: int = 1, act: bool = True):
    """_ConvBnReLU: <name>.conv (padding = dilation for 3x3, kernel // 2 for 7x7), <name>.bn (eps 1e-5), ReLU."""
    pad = dilation if kernel == 3 else kernel // 2
    x = batch_norm(conv(x, ch, kernel, f"{name}.conv", stride, pad, dilation), f"{name}.bn")
    return relu(x) if act else x


def _bottleneck(x, name: str, out_ch: int, stride: int, dilation: int, downsample: bool):
    """_Bottleneck: reduce (1x1, the stride), conv3x3 (dilated), increase (1x1, no ReLU), shortcut; ReLU of the sum."""
    h = _conv_bn(x, f"{name}.reduce", out_ch // 4, 1, stride)
    h = _conv_bn(h, f"{name}.conv3x3", out_ch // 4, 3, 1, dilation)
    h = _conv_bn(h, f"{name}.increase", out_ch, 1, act=False)
    if downsample:
        x = _conv_bn(x, f"{name}.shortcut", out_ch, 1, stride, act=False)
    return relu(keras.layers.Add(name=f"{name}.add")([h, x]), f"{name}.relu")


def build_base(num_classes: int = 182) -> keras.Model:
    """DeepLabV2 (the MSC `base`): preprocessed BGR [B, H, W, 3] -> logits [B, h, w, num_classes] at stride 8."""
    inp = keras.Input((None, None, 3), name="bgr")
    x = _conv_bn(inp, "base.layer1.conv1", 64, 7, 2)
    x = TorchMaxPool2D(3, 2, 1, ceil_mode=True, name="base.layer1.pool")(x)
    for layer, blocks, out_ch, stride, dilation in _LAYERS:
        for b in range(blocks):
            x = _bottleneck(x, f"base.{layer}.block{b + 1}", out_ch, stride if b == 0 else 1, dilation, b == 0)
    aspp = [conv(x, num_classes, 3, f"base.aspp.c{i}", 1, r, r, bias=True) for i, r in enumerate(RATES)]
    return keras.Model(inp, keras.layers.Add(name="base.aspp")(aspp), name="base")


def build(num_classes: int = 182, scales=SCALES) -> keras.Model:
    """MSC: RGB [B, H, W, 3] in [0, 255] -> max over scales of the base logits [B, h, w, num_classes] (stride 8)."""
    inp = keras.Input((None, None, 3), name="image")
    x = ImageNormalize(MEAN_BGR, bgr=True, name="caffe_bgr")(inp)
    base = build_base(num_classes)
    logits = base(x)
    pyramid = [logits]
    for i, p in enumerate(scales):
        scaled = base(TorchResize(scale=float(p), name=f"msc.scale{i}")(x))
        pyramid.append(TorchResize(name=f"msc.up{i}")([scaled, logits]))
    out = keras.layers.Maximum(name="msc.max")(pyramid) if len(pyramid) > 1 else logits
    return keras.Model(inp, out, name=NAME)


def build_kwargs(model) -> dict:
    scales = [layer.scale for layer in model.layers if isinstance(layer, TorchResize) and layer.scale is not None]
    return {"num_classes": int(model.output_shape[-1]), "scales": scales}


def layout(num_classes: int = 182) -> list:
    """[(key, shape, dtype)] of the MSC state_dict (num_batches_tracked aside), in its order."""
    return segmenters.layout(sys.modules[__name__], num_classes=num_classes, scales=[])


def convert_state_dict(state: dict, num_classes: int = 182) -> dict:
    """MSC state_dict -> {keras variable path: array}; ConversionError naming missing / unexpected / mis-shaped keys.
    The variables are those of the shared `base`, so the result fits build() with any `scales`."""
    return segmenters.convert(sys.modules[__name__], state, num_classes=num_classes, scales=[])


def save_converted(model, out_dir: str, source: str | None = None) -> str:
    return segmenters.save(sys.modules[__name__], model, out_dir, source)


def load_converted(out_dir: str, flag: str = "--segmenter") -> keras.Model:
    return segmenters.load(out_dir, flag, NAME)[0]


__all__ = ["NAME", "PROTOCOL", "SCALES", "SEGMENTER", "build", "build_base", "build_kwargs", "convert_state_dict",
           "layout", "load_converted", "save_converted"]
