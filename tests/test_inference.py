"""Loading a trained generator back from a run directory (the path evaluation and export use)."""

import numpy as np
import pytest

from lggan_tf.inference import RunLoadError, load_run
from tests.reference_generator import checkpoint_generator, np_semantic


def test_load_run_restores_the_checkpointed_generator(tiny_run_dir):
    """Every generator variable equals the value stored in the checkpoint file (read with tf.train.load_checkpoint
    into a separately built generator), and so does the output."""
    run = load_run(str(tiny_run_dir))
    assert run.step == 2 and run.checkpoint.endswith("ckpt-2")
    reference, plan = checkpoint_generator(tiny_run_dir, run.checkpoint)
    pairs = list(zip(run.generator.variables, reference.variables))
    assert len(pairs) == len(reference.variables) > 300
    for restored, stored in pairs:
        np.testing.assert_array_equal(restored.numpy(), stored.numpy(), err_msg=restored.path)
    labels = np.random.default_rng(0).integers(0, plan.spec.label_nc, [1, plan.height, plan.width])
    seg = np_semantic(labels, None, plan.spec.onehot_nc, plan.spec.use_instance)
    out = run.generator(seg, training=False)
    assert out["image"].shape == (1, plan.height, plan.width, 3)
    np.testing.assert_array_equal(out["image"].numpy(), reference(seg, training=False)["image"].numpy())


def test_load_run_errors_name_what_is_missing(tmp_path, tiny_run_dir):
    with pytest.raises(RunLoadError, match="config.json"):
        load_run(str(tmp_path))
    with pytest.raises(RunLoadError, match="not found"):
        load_run(str(tiny_run_dir), checkpoint=str(tiny_run_dir / "checkpoints" / "ckpt-999"))
