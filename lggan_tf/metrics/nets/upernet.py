"""UperNet-101 (CSAILVision/semantic-segmentation-pytorch, `ade20k-resnet101-upernet`, formerly
`baseline-resnet101-upernet`): the ADE20K segmenter of Table 2 (150 classes), with eval.py's multi-scale test.

    model = build()                    # RGB in [0, 1], [B, H, W, 3] -> class probabilities [B, H, W, 150]
    convert_state_dict(state)          # keys encoder.* (encoder_epoch_50.pth) + decoder.* (decoder_epoch_50.pth)
    python -m lggan_tf.metrics.convert upernet_101 --pytorch_checkpoint encoder_epoch_50.pth,decoder_epoch_50.pth ...

Encoder (mit_semseg/models/resnet.py resnet101 in models.Resnet): deep stem conv1-3 (3x3; 64 s2, 64, 128) + BN +
ReLU, MaxPool2d(3, 2, 1), torchvision Bottleneck stages layer1-4 (64, 128 s2, 256 s2, 512 s2; 3, 4, 23, 3 blocks).
Decoder (models.UPerNet, fpn_dim 512): PPM on layer4 (AdaptiveAvgPool 1, 2, 3, 6 -> bilinear up -> 1x1 conv BN
ReLU, concat, 3x3 conv), FPN top-down with 1x1 laterals (fpn_in) and 3x3 fpn_out, fusion of the four levels at 1/4
resolution, conv_last (3x3 conv BN ReLU, 1x1 conv to the classes); at test time bilinear up to the image size and
softmax. All F.interpolate calls are bilinear, align_corners=False.

Multi-scale test (eval.py + dataset.ValDataset): for each short side s in `short_sides` the image is resized (PIL
bilinear on uint8) to int(H*r), int(W*r), r = min(s / min(H, W), max_size / max(H, W)), each rounded up to a
multiple of `padding_constant`, normalised with the ImageNet mean / std, and the softmax scores at the original
size are averaged over the scales. `short_sides=()` runs the single given scale.
"""

from __future__ import annotations

import sys

import keras
import tensorflow as tf

from lggan_tf.metrics.nets import segmenters
from lggan_tf.metrics.nets.torch_layers import (AdaptiveAvgPool2D, ImageNormalize, TorchMaxPool2D, TorchResize,
                                                batch_norm, conv, relu, torch_bottleneck)

NAME = "upernet_101"
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
SHORT_SIDES = (300, 375, 450, 525, 600)  # config/ade20k-resnet101-upernet.yaml DATASET.imgSizes
MAX_SIZE, PADDING_CONSTANT = 1000, 32    # imgMaxSize, padding_constant
POOL_SCALES = (1, 2, 3, 6)
FPN_INPLANES, FPN_DIM = (256, 512, 1024, 2048), 512
PROTOCOL = ("ADE20K (Table 2): the generated 256x256 RGB image through eval.py's multi-scale test (short side 300, "
            "375, 450, 525, 600, max 1000, sizes rounded up to multiples of 32, bilinear; ImageNet mean / std), "
            "softmax scores averaged at 256x256; labels nearest-resized to 256x256, ADE20K ids 1-150 -> 0-149, 0 "
            "(unlabeled) ignored. Weights: ade20k-resnet101-upernet/{encoder,decoder}_epoch_50.pth "
            "(sceneparsing.csail.mit.edu/model/pytorch); reference CSAILVision/semantic-segmentation-pytorch@"
            "8f27c9b97d2ca7c6e05333d5766d144bf7d8c31b mit_semseg/models, eval.py, dataset.py.")
SEGMENTER = {"num_classes": 150, "input_size": None, "input_range": "0,1", "label_map": None, "class_names": []}
# mit_semseg's SynchronizedBatchNorm2d buffers (in the published files); eval-mode BN reads only running_mean / var.
UNUSED_BUFFERS = ("._tmp_running_mean", "._tmp_running_var", "._running_iter")
_STAGES = (("layer1", 64, 3, 1), ("layer2", 128, 4, 2), ("layer3", 256, 23, 2), ("layer4", 512, 3, 2))


def _conv_bn_relu(x, name: str, ch: int, kernel: int):
    """A Sequential(Conv2d(k, padding k // 2, bias=False), BatchNorm2d, ReLU): <name>.0, <name>.1."""
    return relu(batch_norm(conv(x, ch, kernel, f"{name}.0", padding=kernel // 2), f"{name}.1"))


def _encoder(x) -> list:
    """models.Resnet(resnet101): [layer1 (1/4), layer2 (1/8), layer3 (1/16), layer4 (1/32)] outputs."""
    for i, (ch, stride) in enumerate(((64, 2), (64, 1), (128, 1)), start=1):
        x = relu(batch_norm(conv(x, ch, 3, f"encoder.conv{i}", stride, 1), f"encoder.bn{i}"))
    x = TorchMaxPool2D(3, 2, 1, name="encoder.maxpool")(x)
    outs = []
    for name, planes, blocks, stride in _STAGES:
        for b in range(blocks):
            x = torch_bottleneck(x, f"encoder.{name}.{b}", planes, stride if b == 0 else 1, downsample=b == 0)
        outs.append(x)
    return outs


def _decoder(conv_out: list, num_classes: int):
    """models.UPerNet.forward up to conv_last: logits at 1/4 resolution; layers created in its registration order
    (ppm_conv, ppm_last_conv, fpn_in, fpn_out, conv_last), which is the state_dict order."""
    conv5 = conv_out[-1]
    ppm = [conv5]
    for i, s in enumerate(POOL_SCALES):
        pooled = AdaptiveAvgPool2D(s, name=f"decoder.ppm_pool.{i}")(conv5)
        pooled = TorchResize(name=f"decoder.ppm_up.{i}")([pooled, conv5])
        ppm.append(_conv_bn_relu(pooled, f"decoder.ppm_conv.{i}", 512, 1))
    top = _conv_bn_relu(keras.layers.Concatenate(name="decoder.ppm_cat")(ppm), "decoder.ppm_last_conv", FPN_DIM, 3)
    laterals = [_conv_bn_relu(c, f"decoder.fpn_in.{i}", FPN_DIM, 1) for i, c in enumerate(conv_out[:-1])]
    f, sums = top, {}
    for i in reversed(range(len(laterals))):  # top-down: f = lateral_i + up(f); fpn_out_i reads f, not the chain
        up = TorchResize(name=f"decoder.topdown_up.{i}")([f, laterals[i]])
        f = sums[i] = keras.layers.Add(name=f"decoder.topdown.{i}")([laterals[i], up])
    levels = [_conv_bn_relu(sums[i], f"decoder.fpn_out.{i}.0", FPN_DIM, 3) for i in range(len(laterals))] + [top]
    fused = [levels[0]] + [TorchResize(name=f"decoder.fuse_up.{i}")([lv, levels[0]])
                           for i, lv in enumerate(levels[1:], start=1)]
    x = _conv_bn_relu(keras.layers.Concatenate(name="decoder.fuse_cat")(fused), "decoder.conv_last.0", FPN_DIM, 3)
    return conv(x, num_classes, 1, "decoder.conv_last.1", bias=True)


def build_core(num_classes: int = 150) -> keras.Model:
    """Encoder + decoder: ImageNet-normalised RGB [B, H, W, 3] -> logits [B, H/4, W/4, num_classes]."""
    inp = keras.Input((None, None, 3), name="normalized")
    return keras.Model(inp, _decoder(_encoder(inp), num_classes), name="core")


_PRECISION = 2.0 ** 22  # PIL ImagingResample: PRECISION_BITS = 32 - 8 - 2


def _pil_bilinear_matrix(in_size, out_size):
    """[out, in] float64 fixed-point weights of PIL's BILINEAR resampling along one axis (precompute_coeffs +
    normalize_coeffs_8bpc): triangle of half-width max(in/out, 1) around (i + 0.5) * in/out, rows normalised,
    then trunc(0.5 + w * 2^22)."""
    scale = tf.cast(in_size, tf.float64) / tf.cast(out_size, tf.float64)
    one = tf.constant(1.0, tf.float64)
    filterscale = tf.maximum(scale, one)
    center = (tf.cast(tf.range(out_size), tf.float64)[:, None] + 0.5) * scale
    j = tf.cast(tf.range(in_size), tf.float64)[None, :]
    w = tf.nn.relu(one - tf.abs((j + 0.5 - center) / filterscale))
    w = w / tf.reduce_sum(w, axis=1, keepdims=True)
    return tf.floor(0.5 + w * _PRECISION)


def _pil_pass(x, weights, equation: str):
    """One PIL 8-bit pass: (sum(pixel * fixed-point weight) + 2^21) >> 22, clipped to [0, 255] (exact in float64)."""
    y = tf.floor((tf.einsum(equation, weights, x) + _PRECISION / 2) / _PRECISION)
    return tf.clip_by_value(y, tf.constant(0.0, tf.float64), tf.constant(255.0, tf.float64))


def pil_bilinear_resize(x, size):
    """PIL Image.resize(size[::-1], BILINEAR) of uint8-valued float images [B, H, W, C] (values 0..255), bit-exact:
    the horizontal pass, rounded to uint8, then the vertical pass."""
    shape = tf.shape(x)
    x = tf.cast(x, tf.float64)
    x = _pil_pass(x, _pil_bilinear_matrix(shape[2], size[1]), "ow,bhwc->bhoc")
    x = _pil_pass(x, _pil_bilinear_matrix(shape[1], size[0]), "oh,bhwc->bowc")
    return tf.cast(x, tf.float32)


@keras.saving.register_keras_serializable("lggan_tf")
class ShortSideResize(keras.layers.Layer):
    """ValDataset's test resize of a [0, 1] RGB image: short side -> `short` (long side <= max_size), each side
    rounded up to a multiple of `padding_constant`, resampled bit-exactly as PIL's Image.resize(BILINEAR) of the
    uint8 image (pil_bilinear_resize)."""

    def __init__(self, short: int, max_size: int, padding_constant: int, **kw):
        super().__init__(**kw)
        self.short, self.max_size, self.padding_constant = short, max_size, padding_constant

    def call(self, x):
        hw = tf.cast(tf.shape(x)[1:3], tf.float64)
        ratio = tf.minimum(self.short / tf.reduce_min(hw), self.max_size / tf.reduce_max(hw))
        size = tf.cast(tf.floor(hw * ratio), tf.int32)
        p = self.padding_constant
        size = ((size - 1) // p + 1) * p
        return pil_bilinear_resize(tf.round(x * 255.0), size) / 255.0

    def get_config(self):
        return {**super().get_config(), "short": self.short, "max_size": self.max_size,
                "padding_constant": self.padding_constant}


def build(num_classes: int = 150, short_sides=SHORT_SIDES, max_size: int = MAX_SIZE,
          padding_constant: int = PADDING_CONSTANT) -> keras.Model:
    """RGB [B, H, W, 3] in [0, 1] -> softmax scores [B, H, W, num_classes] averaged over the test scales."""
    inp = keras.Input((None, None, 3), name="image")
    core = build_core(num_classes)
    normalize = ImageNormalize(MEAN, STD, name="imagenet_normalize")
    scores = []
    for i, short in enumerate(short_sides or (None,)):
        x = inp if short is None else ShortSideResize(short, max_size, padding_constant, name=f"resize{i}")(inp)
        logits = TorchResize(name=f"seg_size{i}")([core(normalize(x)), inp])
        scores.append(keras.layers.Softmax(name=f"softmax{i}")(logits))
    out = keras.layers.Average(name="scale_mean")(scores) if len(scores) > 1 else scores[0]
    return keras.Model(inp, out, name=NAME)


def build_kwargs(model) -> dict:
    sizes = [layer for layer in model.layers if isinstance(layer, ShortSideResize)]
    return {"num_classes": int(model.output_shape[-1]), "short_sides": [layer.short for layer in sizes],
            "max_size": sizes[0].max_size if sizes else MAX_SIZE,
            "padding_constant": sizes[0].padding_constant if sizes else PADDING_CONSTANT}


def layout(num_classes: int = 150) -> list:
    """[(key, shape, dtype)] of SegmentationModule's state_dict (encoder.*, decoder.*) in its order, without the
    buffers inference never reads (UNUSED_BUFFERS, num_batches_tracked)."""
    return segmenters.layout(sys.modules[__name__], num_classes=num_classes, short_sides=[])


_ENCODER_MODULES = ("conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "layer1", "layer2", "layer3", "layer4")


def with_prefixes(state: dict) -> dict:
    """The published pair (encoder_epoch_50.pth + decoder_epoch_50.pth, merged by the convert CLI: disjoint keys
    without prefixes) keyed as SegmentationModule's state_dict (encoder.*, decoder.*); prefixed input is returned
    as is."""
    if any(k.startswith(("encoder.", "decoder.")) for k in state):
        return dict(state)
    return {("encoder." if k.split(".", 1)[0] in _ENCODER_MODULES else "decoder.") + k: v for k, v in state.items()}


def convert_state_dict(state: dict, num_classes: int = 150) -> dict:
    """encoder + decoder state_dict (prefixed or the merged published pair, see with_prefixes) -> {keras variable
    path: array}; ConversionError naming missing / unexpected / mis-shaped keys. The variables are the shared
    `core`'s, so the result fits any `short_sides`."""
    return segmenters.convert(sys.modules[__name__], with_prefixes(state), num_classes=num_classes, short_sides=[])


def save_converted(model, out_dir: str, source: str | None = None) -> str:
    return segmenters.save(sys.modules[__name__], model, out_dir, source)


def load_converted(out_dir: str, flag: str = "--segmenter") -> keras.Model:
    return segmenters.load(out_dir, flag, NAME)[0]


__all__ = ["NAME", "PROTOCOL", "SEGMENTER", "SHORT_SIDES", "UNUSED_BUFFERS", "ShortSideResize", "build", "build_core", "build_kwargs",
           "convert_state_dict", "layout", "load_converted", "pil_bilinear_resize", "save_converted", "with_prefixes"]
