"""Loading a trained generator back from a run directory (the path evaluation and export use)."""

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.inference import RunLoadError, load_run


def test_load_run_restores_the_checkpointed_generator(tiny_run_dir):
    run = load_run(str(tiny_run_dir))
    assert run.step == 2 and run.checkpoint.endswith("ckpt-2")
    kernel = run.generator.encoder.conv1.conv.kernel
    reader = tf.train.load_checkpoint(run.checkpoint)
    stored = [reader.get_tensor(name) for name, shape in tf.train.list_variables(run.checkpoint)
              if tuple(shape) == tuple(kernel.shape) and name.endswith("VARIABLE_VALUE")]
    assert any(np.array_equal(value, kernel.numpy()) for value in stored)
    seg = tf.one_hot(tf.zeros([1, run.plan.height, run.plan.width], tf.int32), run.plan.semantic_nc)
    out = run.generator(seg, training=False)
    assert out["image"].shape == (1, run.plan.height, run.plan.width, 3)


def test_load_run_errors_name_what_is_missing(tmp_path, tiny_run_dir):
    with pytest.raises(RunLoadError, match="config.json"):
        load_run(str(tmp_path))
    with pytest.raises(RunLoadError, match="not found"):
        load_run(str(tiny_run_dir), checkpoint=str(tiny_run_dir / "checkpoints" / "ckpt-999"))
