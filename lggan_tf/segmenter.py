"""A small segmentation network for mIoU / pixel accuracy on datasets without a published segmenter (synthetic).

    python -m lggan_tf.segmenter train --dataset synthetic --out runs/segmenter [--steps 1500]

trains a U-shaped conv net on real images + labels of the training split and writes `<out>/segmenter.keras` and
`<out>/segmenter.json` (the format `lggan_tf.metrics.segmentation.Segmenter.load` reads; pass `--segmenter=<out>`
to evaluate.py). Plain Keras layers only, so the .keras file loads anywhere without custom objects.
"""

from __future__ import annotations

import json
import os
import sys
import time

import keras
import tensorflow as tf


def build_segmenter(num_classes: int, width: int = 16) -> keras.Model:
    """Images float [B, H, W, 3] in [-1, 1] (H, W multiples of 4) -> logits [B, H, W, num_classes]."""
    layers = keras.layers
    inp = keras.Input((None, None, 3))

    def conv(x, ch, stride=1, name=None):
        return layers.Conv2D(ch, 3, strides=stride, padding="same", activation="relu", name=name)(x)

    s1 = conv(conv(inp, width, name="enc1a"), width, name="enc1b")
    s2 = conv(conv(s1, 2 * width, 2, name="down1"), 2 * width, name="enc2")
    s3 = conv(conv(s2, 4 * width, 2, name="down2"), 4 * width, name="enc3")
    u2 = conv(layers.Concatenate()([layers.UpSampling2D(2, interpolation="bilinear")(s3), s2]), 2 * width, name="dec2")
    u1 = conv(layers.Concatenate()([layers.UpSampling2D(2, interpolation="bilinear")(u2), s1]), width, name="dec1")
    return keras.Model(inp, layers.Conv2D(num_classes, 1, name="logits")(u1), name="segmenter")


def train_segmenter(out: str, dataset: str = "synthetic", data_dir: str | None = None, steps: int = 1500,
                    batch_size: int = 8, height: int = 64, width: int = 64, learning_rate: float = 2e-3,
                    model_width: int = 16, seed: int = 0, log_every: int = 100) -> str:
    """Train on `dataset`'s train split (labels >= label_nc, i.e. dontcare, are ignored); returns `out`."""
    from datasets import build_dataset, get_spec

    if steps < 1:
        raise ValueError(f"--steps={steps}: expected >= 1")
    spec = get_spec(dataset)
    keras.utils.set_random_seed(seed)
    ds = build_dataset(spec, data_dir or None, "train", batch_size, training=True, seed=seed, height=height,
                       width=width)
    model = build_segmenter(spec.label_nc, model_width)
    opt = keras.optimizers.Adam(learning_rate)

    @tf.function
    def step(image, label):
        valid = tf.cast(label < spec.label_nc, tf.float32)
        with tf.GradientTape() as tape:
            logits = model(image, training=True)
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.minimum(label, spec.label_nc - 1), logits)
            loss = tf.reduce_sum(ce * valid) / tf.maximum(tf.reduce_sum(valid), 1.0)
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        acc = tf.reduce_sum(tf.cast(tf.argmax(logits, -1, output_type=tf.int32) == label, tf.float32) * valid)
        return loss, acc / tf.maximum(tf.reduce_sum(valid), 1.0)

    start = time.time()
    for i, batch in enumerate(ds.take(steps), 1):
        loss, acc = step(batch["image"], tf.cast(batch["label"], tf.int32))
        if i % log_every == 0 or i == steps:
            print(json.dumps({"step": i, "loss": round(float(loss), 4), "pixel_accuracy": round(float(acc), 4),
                              "seconds": round(time.time() - start, 1)}), flush=True)
    os.makedirs(out, exist_ok=True)
    model.save(os.path.join(out, "segmenter.keras"))
    meta = {"model": "segmenter.keras", "num_classes": spec.label_nc, "input_size": [height, width],
            "input_range": "-1,1", "label_map": None, "class_names": list(spec.class_names), "dataset": dataset,
            "steps": steps}
    with open(os.path.join(out, "segmenter.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    return out


def main(argv=None) -> int:
    from absl import flags

    fl = flags.FlagValues()
    flags.DEFINE_string("dataset", "synthetic", "Dataset name (datasets.list_datasets()).", flag_values=fl)
    flags.DEFINE_string("data_dir", "", "Dataset root (not needed for synthetic).", flag_values=fl)
    flags.DEFINE_string("out", "", "Output directory (segmenter.keras + segmenter.json).", flag_values=fl)
    flags.DEFINE_integer("steps", 1500, "Training steps.", flag_values=fl)
    flags.DEFINE_integer("batch_size", 8, "Batch size.", flag_values=fl)
    flags.DEFINE_integer("height", 64, "Training height.", flag_values=fl)
    flags.DEFINE_integer("width", 64, "Training width.", flag_values=fl)
    flags.DEFINE_integer("model_width", 16, "Base channel width.", flag_values=fl)
    flags.DEFINE_float("learning_rate", 2e-3, "Adam learning rate.", flag_values=fl)
    flags.DEFINE_integer("seed", 0, "Random seed.", flag_values=fl)
    args = fl(list(argv if argv is not None else sys.argv))
    if len(args) != 2 or args[1] != "train":
        print("usage: python -m lggan_tf.segmenter train --dataset synthetic --out DIR [--steps N]", file=sys.stderr)
        return 2
    if not fl.out:
        print("error: --out is required (the directory to write segmenter.keras and segmenter.json)", file=sys.stderr)
        return 2
    try:
        train_segmenter(fl.out, fl.dataset, fl.data_dir, fl.steps, fl.batch_size, fl.height, fl.width,
                        fl.learning_rate, fl.model_width, fl.seed)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"segmenter written to {fl.out} (pass --segmenter={fl.out} to evaluate.py)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
