"""Pluggable scene classifier for the cross-view IS / accuracy / KL scores (SelectionGAN used AlexNet-Places365).

    clf = SceneClassifier.load("weights/alexnet_places365")          # converted AlexNet-Places365 (the paper's)
    clf = SceneClassifier.load("places365_savedmodel", preprocess="places", outputs="logits")
    probs = clf(images_uint8)            # float64 [B, K]

The model is a directory converted with `python -m lggan_tf.metrics.convert alexnet_places365` (network.json;
lggan_tf.metrics.nets.alexnet_places365), or any Keras file (.keras/.h5) or SavedModel directory taking NHWC float
images and returning class logits (or probabilities with outputs="probs"). preprocess="places" reproduces the scripts' torchvision transform:
resize the shorter side to 256 (bilinear), centre-crop 224, scale to [0, 1], ImageNet mean/std; "none" passes
float [0, 255] images unchanged.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

PREPROCESS = ("places", "none")
OUTPUTS = ("logits", "probs")
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


def places_transform(images) -> tf.Tensor:
    """uint8 [B, H, W, 3] -> float32 [B, 224, 224, 3]: Resize(256) shorter side, CenterCrop(224), Normalize."""
    x = tf.cast(images, tf.float32) / 255.0
    h, w = int(x.shape[1]), int(x.shape[2])
    scale = 256 / min(h, w)
    nh, nw = max(224, int(round(h * scale))), max(224, int(round(w * scale)))
    x = tf.image.resize(x, (nh, nw), "bilinear")
    top, left = (nh - 224) // 2, (nw - 224) // 2
    return (x[:, top:top + 224, left:left + 224] - _MEAN) / _STD


def _logits_only(model):
    """uint8-free tf.function over a converted classifier: float [B, 224, 224, 3] -> logits [B, K]."""
    return tf.function(lambda x: model(x, training=False)["logits"],
                       input_signature=[tf.TensorSpec([None, 224, 224, 3], tf.float32)])


@dataclasses.dataclass
class SceneClassifier:
    model: object
    preprocess: str = "places"
    outputs: str = "logits"

    @classmethod
    def load(cls, path: str | None, preprocess: str = "places", outputs: str = "logits") -> "SceneClassifier":
        from lggan_tf.metrics.segmentation import load_model

        if not path:
            raise ValueError("inception_score / accuracy / kl need a scene classifier: pass --classifier=DIR converted "
                             "from alexnet_places365.pth.tar (python -m lggan_tf.metrics.convert alexnet_places365 "
                             "--pytorch_checkpoint F --out DIR), or a Keras / SavedModel classifier")
        if preprocess not in PREPROCESS or outputs not in OUTPUTS:
            raise ValueError(f"--classifier_preprocess={preprocess!r} / --classifier_outputs={outputs!r}: expected "
                             f"one of {PREPROCESS} / {OUTPUTS}")
        from lggan_tf.metrics.nets import alexnet_places365, common

        if os.path.isfile(os.path.join(path, common.META_FILE)):
            return cls(_logits_only(alexnet_places365.load_converted(path, "--classifier")), preprocess, outputs)
        try:
            model = load_model(path)
        except FileNotFoundError as err:
            raise FileNotFoundError(f"--classifier: {err}") from err
        return cls(model, preprocess, outputs)

    def __call__(self, images) -> np.ndarray:
        x = places_transform(images) if self.preprocess == "places" else tf.cast(images, tf.float32)
        out = self.model(x)
        if isinstance(out, dict):
            out = next(iter(out.values()))
        out = tf.cast(out, tf.float64)
        return (tf.nn.softmax(out, axis=-1) if self.outputs == "logits" else out).numpy()


__all__ = ["OUTPUTS", "PREPROCESS", "SceneClassifier", "places_transform"]
