"""Multi-replica paths, in subprocesses (logical devices must be configured before TensorFlow starts):
MirroredStrategy on 2 logical CPUs against the in-process one-device run (and a broken variant that must fail the
bound), 2 MultiWorkerMirrored workers with one shared model_dir, and the per-worker input shards."""

import json
import socket
import subprocess

import numpy as np
import pytest

from tests.trainer.conftest import child_env, cli_args, latest_step, read_stats, train_cmd
from tests.trainer.test_train_loop import checkpoint_values


# Weight difference after 2 steps between the 2-replica run and the one-device run (every generator and
# discriminator variable: weights, BN running statistics, spectral-norm vectors). Measured (2 logical CPUs, float32):
# mean |diff| 3.6e-8 (seed 0, the test's) and 1.2e-7 (seed 1), max 1.58e-3 (both); with batch norm not
# synchronised (seeds 0, 1): mean 2.2e-4, max 0.35 and 0.45. MEAN_BOUND is 3x the larger measured mean. MAX_BOUND
# is Adam's envelope: with betas (0, 0.9) a weight moves at most lr_d (step 1) + sqrt(1.9) lr_d (step 2) =
# 2.38 x 4e-4, and where the true gradient is ~0 (a conv bias right before a norm) its sign is rounding noise, so
# the two runs may move it in opposite directions: 1.9e-3.
MEAN_BOUND = 3.7e-7
MAX_BOUND = 2 * 2.38 * 4e-4


def weight_differences(run_a, run_b, step=2):
    """|a - b| of every generator and discriminator variable in ckpt-<step> of the two runs, flattened."""
    a = checkpoint_values(run_a / "checkpoints" / f"ckpt-{step}")
    b = checkpoint_values(run_b / "checkpoints" / f"ckpt-{step}")
    weights = [k for k in a if k.startswith(("generator/", "discriminator/", "g_optimizer/_trainable",
                                             "d_optimizer/_trainable"))]
    assert len(weights) > 300
    return np.concatenate([np.abs(a[k] - b[k]).ravel() for k in weights])


def test_mirrored_two_replicas_match_one_device(mirrored_runs, tiny_runs):
    run, stdout = mirrored_runs.wait("synced")
    assert "on 2 replica(s)" in stdout
    one, two = read_stats(tiny_runs["straight"])[:2], read_stats(run)
    terms = ("g_total", "d_total", "g_gan", "g_feat", "g_local_l1", "g_class", "d_real", "d_fake")
    for key in terms:  # step 1: same weights, same global batch split over 2 replicas
        assert two[0][key] == pytest.approx(one[0][key], rel=1e-5, abs=1e-6), key
    for key in ("g_total", "d_total"):  # step 2, after one update of each network
        assert two[1][key] == pytest.approx(one[1][key], rel=2e-4), key
    for key in terms:
        assert two[1][key] == pytest.approx(one[1][key], abs=3e-3), key
    diffs = weight_differences(tiny_runs["straight"], run)
    assert diffs.mean() < MEAN_BOUND and diffs.max() < MAX_BOUND, (diffs.mean(), diffs.max())


def test_unsynchronised_batch_norm_breaks_the_bound(mirrored_runs, tiny_runs):
    """The bound above can fail: each replica normalising its own half of the batch (SyncBatchNorm off) moves the
    weights far outside it, and step 1's losses already differ."""
    run, stdout = mirrored_runs.wait("unsync")
    assert "on 2 replica(s)" in stdout
    assert read_stats(run)[0]["g_total"] != pytest.approx(read_stats(tiny_runs["straight"])[0]["g_total"], rel=1e-3)
    diffs = weight_differences(tiny_runs["straight"], run)
    assert diffs.mean() > 30 * MEAN_BOUND and diffs.max() > MAX_BOUND, (diffs.mean(), diffs.max())


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.cost(55)
def test_multi_worker_two_processes(tmp_path):
    """The README's recipe on localhost: the same command on two workers (TF_CONFIG, strategy chosen
    automatically) with one shared --model_dir. Both exit 0; the chief's checkpoints are the only files written;
    no worker scratch copy is left."""
    run = tmp_path / "multi_worker"
    cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(2)]}
    procs, scratch = [], []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        scratch.append(tmp_path / f"tmp-{index}")
        scratch[-1].mkdir()
        procs.append(subprocess.Popen(train_cmd(*cli_args(run, train_steps=3)), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True,
                                      env=child_env(TF_CONFIG=tf_config, TMPDIR=str(scratch[-1]))))
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=600))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
    chief_out, worker_out = outputs[0][0], outputs[1][0]
    assert "on 2 replica(s)" in chief_out and "finished at step 3" in chief_out
    assert "step 3/3" not in worker_out  # only the chief reports and writes
    stats = read_stats(run)
    assert [r["step"] for r in stats] == [1, 2, 3]
    assert all(np.isfinite(r["g_total"]) and np.isfinite(r["d_total"]) for r in stats)
    assert latest_step(run) == 3
    checkpoints = run / "checkpoints"
    prefixes = {p.name.split(".")[0] for p in checkpoints.iterdir() if p.name != "checkpoint"}
    assert prefixes == {"ckpt-2", "ckpt-3"}, sorted(p.name for p in checkpoints.iterdir())
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*.index")) == [
        "checkpoints/ckpt-2.index", "checkpoints/ckpt-3.index"]
    for index, folder in enumerate(scratch):  # the non-chief's private checkpoint folder is removed at exit
        assert not [p.name for p in folder.iterdir() if p.name.startswith("lggan-")], (index, list(folder.iterdir()))


@pytest.mark.parametrize("source", ["synthetic", "files", "tfrecords"])
def test_two_workers_read_disjoint_shards_that_cover_the_data(source, tmp_path):
    """Worker 0 and 1 of 2 (one replica each), built as the trainer builds them (training pipeline, global batch 4,
    2 steps per epoch): in each of two epochs the workers read disjoint halves that together cover the 8 examples
    of the unsharded pass once."""
    import tensorflow as tf

    import datasets
    from datasets import make_tfrecords
    from tests.datasets.conftest import stripes, write_image, write_label

    n, batch, data_dir = 8, 4, None
    if source == "synthetic":
        spec = datasets.get_spec("synthetic")
    else:
        spec = datasets.get_spec("custom", label_nc=3)
        data_dir = tmp_path / "raw"
        for i in range(n):
            write_image(data_dir / "train_img" / f"e{i}.png", 16, 16, seed=i)
            write_label(data_dir / "train_label" / f"e{i}.png", stripes(16, 16, [0, i % 3, 2]))
        if source == "tfrecords":
            make_tfrecords.write_tfrecords(spec, str(data_dir), "train", str(tmp_path / "rec"), num_shards=3)
            data_dir = tmp_path / "rec"
    whole = datasets.build_dataset(spec, data_dir and str(data_dir), "train", batch, training=False, seed=3,
                                   num_examples=n, height=32, width=32)
    every = {name for b in whole for name in b["name"].numpy()}
    assert len(every) == n
    epochs = []
    for worker in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=worker, num_replicas_in_sync=2)
        ds = datasets.build_dataset(spec, data_dir and str(data_dir), "train", batch, training=True, seed=3,
                                    deterministic=True, input_context=context, num_examples=n, height=32, width=32)
        names = [name for b in ds.take(2 * n // batch) for name in b["name"].numpy()]
        epochs.append([names[:n // 2], names[n // 2:]])
    for epoch in range(2):
        first, second = (epochs[worker][epoch] for worker in range(2))
        assert len(set(first)) == len(set(second)) == n // 2, (source, epoch, first, second)
        assert not set(first) & set(second) and set(first) | set(second) == every, (source, epoch, first, second)
