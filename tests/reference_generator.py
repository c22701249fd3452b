"""Independent references for the inference and export tests: a generator filled straight from the checkpoint file
(`tf.train.load_checkpoint`, not `tf.train.Checkpoint.restore` nor `load_run`), the semantic input and the uint8
conversion in NumPy."""

import json
import pathlib

import numpy as np


def checkpoint_generator(model_dir, checkpoint):
    """(generator, plan): built from `<model_dir>/config.json` and assigned every variable from the file.

    Trainable weights are read from the G optimiser's slot list (`g_optimizer/_trainable_variables/<i>`, the order
    of `generator.trainable_variables` when the trainer built the optimiser); the others (batch-norm running
    statistics, spectral-norm vectors) from `generator/<attribute path>`, followed attribute by attribute.
    """
    import tensorflow as tf

    from lggan_tf.train_config import TrainConfig
    from lggan_tf.train_setup import build_models, resolve_run

    record = json.loads((pathlib.Path(model_dir) / "config.json").read_text())
    config = TrainConfig.from_dict(record["config"])
    plan = resolve_run(config, count=False)
    generator, _ = build_models(config, plan)
    reader = tf.train.load_checkpoint(str(checkpoint))
    names = reader.get_variable_to_shape_map()
    for i, variable in enumerate(generator.trainable_variables):
        variable.assign(reader.get_tensor(f"g_optimizer/_trainable_variables/{i}/.ATTRIBUTES/VARIABLE_VALUE"))
    assert f"g_optimizer/_trainable_variables/{len(generator.trainable_variables)}/.ATTRIBUTES/VARIABLE_VALUE" \
        not in names, "the checkpoint's G optimiser tracks more variables than the generator has"
    assigned = set()
    for name in names:
        if not name.startswith("generator/"):
            continue
        target = generator
        for part in name.split("/")[1:-2]:  # generator/<a>/<b>/.../<variable>/.ATTRIBUTES/VARIABLE_VALUE
            target = getattr(target, part)
        target.assign(reader.get_tensor(name))
        assigned.add(id(target))
    assert assigned == {id(v) for v in generator.non_trainable_variables}
    return generator, plan


def np_semantic(labels, instances, onehot_nc, use_instance=True):
    """One-hot [B,H,W,onehot_nc], then with `use_instance` the official instance-edge channel (1 where a
    4-neighbour has another instance id; all 0 when `instances` is None), float32."""
    onehot = np.eye(onehot_nc, dtype=np.float32)[labels]
    if not use_instance:
        return onehot
    edge = np.zeros(np.shape(labels), bool)
    if instances is not None:
        t = np.asarray(instances)
        edge[:, :, 1:] |= t[:, :, 1:] != t[:, :, :-1]
        edge[:, :, :-1] |= t[:, :, 1:] != t[:, :, :-1]
        edge[:, 1:, :] |= t[:, 1:, :] != t[:, :-1, :]
        edge[:, :-1, :] |= t[:, 1:, :] != t[:, :-1, :]
    return np.concatenate([onehot, edge[..., None].astype(np.float32)], -1)


def np_uint8(image):
    """[-1, 1] float image -> uint8: round((x + 1) * 127.5), clipped to [0, 255]."""
    return np.clip(np.round((np.asarray(image, np.float64) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def assert_uint8_matches(served, float_image, what="image"):
    """A served uint8 image is np_uint8 of the float one, up to float noise between the traced graph and eager
    execution on values at a rounding boundary (measured: 1-2 of 24,576-36,864 values, by one level)."""
    diff = np.abs(np.asarray(served).astype(np.int16) - np_uint8(float_image))
    assert diff.max() <= 1 and np.mean(diff > 0) < 1e-3, (what, diff.max(), np.mean(diff > 0))
