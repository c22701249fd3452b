"""AlexNet-Places365 (CSAILVision/places365; torchvision AlexNet layout, 365 classes) as a Keras model, for the
cross-view IS / top-k accuracy / KL of SelectionGAN's scripts (lggan_official_code.md §4.2).

    model = build()          # float [B, 224, 224, 3] (ImageNet-normalised) -> {"logits": [B, 365]}

Weights: `alexnet_places365.pth.tar` ({'state_dict': ...} with `features.module.N.*` keys: the features were
trained under DataParallel) or any torchvision-layout state_dict (`features.N.*`, `classifier.{1,4,6}.*`).
`whole_alexnet_places365.pth.tar` is a pickled model, which the torch-free reader refuses by design; turn it into a
state_dict once with torch (README, Reproducing the paper's numbers).
torchvision flattens pool5 in (C, H, W) order; the Keras model flattens NHWC maps in (H, W, C) order, so the rows of
`classifier.1.weight` are permuted at conversion (no transpose at run time).
"""

from __future__ import annotations

import numpy as np

from lggan_tf.metrics.nets import common, torchvision_backbones as tvb

NAME = "alexnet_places365"
NUM_CLASSES = 365
PROTOCOL = ("SelectionGAN scene scores: Resize(256) shorter side, CenterCrop(224), /255, ImageNet mean/std "
            "(lggan_tf.metrics.scene_classifier.places_transform); softmax of the 365 logits")
CLASSIFIER = ((1, 4096, 256 * 6 * 6), (4, 4096, 4096), (6, NUM_CLASSES, 4096))  # (index, out, in)


def layout() -> list:
    """[(key, shape, dtype)] of torchvision.models.alexnet(num_classes=365).state_dict(), in order."""
    out = tvb.conv_layout(tvb.ALEXNET_CONVS)
    for i, c_out, c_in in CLASSIFIER:
        out += [(f"classifier.{i}.weight", (c_out, c_in), "float32"), (f"classifier.{i}.bias", (c_out,), "float32")]
    return out


def build(intermediates: bool = False):
    """Keras AlexNet: float [B, 224, 224, 3] -> {"logits": [B, 365]} (+ "pool5" [B, 6, 6, 256], "fc7" [B, 4096])."""
    import keras

    inp = keras.Input((224, 224, 3), name="image")
    pool5 = tvb.alexnet_features(keras, inp, through_pool5=True)[0]  # 6x6: torchvision's AdaptiveAvgPool2d(6) is id
    x = keras.layers.Flatten(name="flatten")(pool5)
    x = keras.layers.Dense(4096, activation="relu", name="classifier_1")(x)   # dropout: identity at inference
    fc7 = keras.layers.Dense(4096, activation="relu", name="classifier_4")(x)
    logits = keras.layers.Dense(NUM_CLASSES, name="classifier_6")(fc7)
    out = {"logits": logits, **({"pool5": pool5, "fc7": fc7} if intermediates else {})}
    return keras.Model(inp, out, name=NAME)


def convert_state_dict(state: dict) -> dict:
    """{keras variable path: array}; `module.` (DataParallel) anywhere in the keys is dropped, as the Places365
    scripts do; ConversionError on another network's file."""
    state = {k.replace("module.", ""): v for k, v in state.items()}
    common.check_state_dict(state, layout(), NAME)
    weights = tvb.convert_features(state, tvb.ALEXNET_CONVS)
    fc6 = np.asarray(state["classifier.1.weight"], np.float32).reshape(4096, 256, 6, 6)
    weights["classifier_1/kernel"] = np.ascontiguousarray(fc6.transpose(0, 2, 3, 1).reshape(4096, -1).T)
    weights["classifier_4/kernel"] = common.dense_kernel(state["classifier.4.weight"])
    weights["classifier_6/kernel"] = common.dense_kernel(state["classifier.6.weight"])
    for i in (1, 4, 6):
        weights[f"classifier_{i}/bias"] = np.asarray(state[f"classifier.{i}.bias"], np.float32)
    return weights


def save_converted(model, out_dir: str, source=None) -> str:
    return common.save_converted(model, out_dir, NAME, PROTOCOL, source)


def load_converted(out_dir: str, flag: str = "--classifier"):
    return common.load_converted(out_dir, NAME, build, flag)[0]


__all__ = ["NAME", "NUM_CLASSES", "PROTOCOL", "build", "convert_state_dict", "layout", "load_converted",
           "save_converted"]
