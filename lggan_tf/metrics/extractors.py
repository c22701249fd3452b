"""Feature extractors for FID / KID: uint8 images [B, H, W, 3] -> float32 features [B, D].

    extractor = make_fid_extractor("weights/inception_fid")   # pytorch-fid / TTUR Inception (converted): fid, kid
    extractor = make_fid_extractor("imagenet")     # Keras ImageNet Inception-v3 pool features: fid_keras, kid_keras
    extractor = make_fid_extractor("/w/inception_v3_notop.weights.h5")    # the same Keras weights from a local file
    extractor = make_fid_extractor("tiny")         # built-in deterministic extractor: fid_uncalibrated

`extractor.suffix` names what the features are: "" only for the FID Inception of pytorch-fid / TTUR (the 2015 TF
graph the published FIDs use, converted with `python -m lggan_tf.metrics.convert inception_fid`), "_keras" for
Keras' ImageNet Inception-v3 (a different network: close to, not equal to, published FIDs), "_uncalibrated" for the
tiny extractor. When the Keras weights cannot be downloaded (offline), 'imagenet' falls back to the tiny extractor
and says so on stderr.
"""

from __future__ import annotations

import hashlib
import os
import sys

import numpy as np
import tensorflow as tf


class TinyExtractor:
    """Fixed random conv net (NumPy-seeded weights, identical on every machine): 64x64 input, three stride-2 3x3
    convs + ReLU, features = per-channel mean and std of every stage (D = 2 * (16 + 32 + 64) = 224).
    Deterministic and download-free; it measures distribution shift, not the Inception-calibrated FID."""

    suffix = "_uncalibrated"
    widths = (16, 32, 64)

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.kernels, cin = [], 3
        for cout in self.widths:
            self.kernels.append(tf.constant(rng.standard_normal((3, 3, cin, cout)) * np.sqrt(2.0 / (9 * cin)),
                                            tf.float32))
            cin = cout
        self.dim = 2 * sum(self.widths)
        self.name = f"tiny-seed{seed}"

    def stages(self, images) -> list[tf.Tensor]:
        """Activations of the three stages for uint8 images [B, H, W, 3]."""
        x = tf.image.resize(tf.cast(images, tf.float32) / 127.5 - 1.0, (64, 64), "bilinear", antialias=True)
        outs = []
        for kernel in self.kernels:
            x = tf.nn.relu(tf.nn.conv2d(x, kernel, 2, "SAME"))
            outs.append(x)
        return outs

    def __call__(self, images) -> np.ndarray:
        feats = []
        for x in self.stages(images):
            mean, var = tf.nn.moments(x, axes=[1, 2])
            feats += [mean, tf.sqrt(var + 1e-8)]
        return tf.concat(feats, axis=-1).numpy()


class FIDInceptionExtractor:
    """pytorch-fid's FID Inception (lggan_tf.metrics.nets.inception_fid) from a converted directory: its input path
    (x / 255, bilinear resize to 299 as F.interpolate(align_corners=False), 2x - 1) and 2048-d pool3 features."""

    suffix = ""
    dim = 2048

    def __init__(self, weights_dir: str):
        from lggan_tf.metrics.nets import common, inception_fid

        self.model = inception_fid.load_converted(weights_dir, flag="--inception_weights")
        meta = common.read_meta(weights_dir, inception_fid.NAME, "--inception_weights")
        digest = (meta["sources"][0]["sha256"][:10] if meta.get("sources") else _file_id(
            os.path.join(weights_dir, common.WEIGHTS_FILE)))
        self.name = f"inception_fid-{digest}"
        self._features = tf.function(
            lambda images: self.model(inception_fid.preprocess(images), training=False)["pool3"],
            input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])

    def __call__(self, images) -> np.ndarray:
        return self._features(tf.convert_to_tensor(np.asarray(images, np.uint8))).numpy()


class InceptionExtractor:
    """Keras Inception-v3 (include_top=False, pooling='avg'): bilinear resize to 299x299, inception preprocessing,
    2048-d pool features. weights: 'imagenet' (Keras download, cached in ~/.keras) or a local weights file.
    Not the FID network of the published numbers: reported as fid_keras / kid_keras."""

    suffix = "_keras"
    dim = 2048

    def __init__(self, weights: str = "imagenet", batch_size: int = 32):
        import keras

        self.model = keras.applications.InceptionV3(include_top=False, pooling="avg", weights=weights,
                                                    input_shape=(299, 299, 3))
        self.batch_size = batch_size
        self.name = "inception_v3-imagenet" if weights == "imagenet" else f"inception_v3-{_file_id(weights)}"

    def __call__(self, images) -> np.ndarray:
        x = tf.image.resize(tf.cast(images, tf.float32), (299, 299), "bilinear")
        return self.model(x / 127.5 - 1.0, training=False).numpy()  # inception_v3.preprocess_input


def _file_id(path: str) -> str:
    stat = os.stat(path)
    return hashlib.md5(f"{os.path.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]


def make_fid_extractor(weights: str = "imagenet"):
    """A converted inception_fid directory -> FIDInceptionExtractor; 'tiny' -> TinyExtractor; a file path ->
    Keras Inception-v3 with those weights; 'imagenet' -> Keras Inception-v3 with Keras' download, falling back to
    TinyExtractor (stderr note) when the download fails."""
    if weights == "tiny":
        return TinyExtractor()
    if os.path.isdir(weights):
        return FIDInceptionExtractor(weights)
    if weights != "imagenet":
        if not os.path.isfile(weights):
            raise FileNotFoundError(
                f"--inception_weights={weights!r} does not exist: pass a directory converted from pytorch-fid's "
                "pt_inception-2015-12-05-6726825d.pth (python -m lggan_tf.metrics.convert inception_fid ...; reports "
                "fid / kid), 'imagenet' (Keras download; fid_keras), a Keras Inception-v3 no-top weights file "
                "(fid_keras) or 'tiny' (built-in; fid_uncalibrated)")
        return InceptionExtractor(weights)
    try:
        return InceptionExtractor("imagenet")
    except Exception as err:  # offline: keras raises a plain Exception("URL fetch failure ...")
        print(f"warning: Inception-v3 ImageNet weights unavailable ({str(err)[:160]}); using the built-in tiny "
              "extractor: results are labelled fid_uncalibrated / kid_uncalibrated and are NOT comparable with "
              "published FIDs. Pass --inception_weights=DIR converted from pytorch-fid's weights for the paper's "
              "FID.", file=sys.stderr, flush=True)
        return TinyExtractor()


__all__ = ["FIDInceptionExtractor", "InceptionExtractor", "TinyExtractor", "make_fid_extractor"]
