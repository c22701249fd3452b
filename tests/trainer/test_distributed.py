"""Multi-replica paths, in subprocesses (logical devices must be configured before TensorFlow starts):
MirroredStrategy on 2 logical CPUs against the in-process one-device run, and 2 MultiWorkerMirrored workers."""

import json
import socket
import subprocess

import numpy as np
import pytest

from tests.trainer.conftest import child_env, cli_args, latest_step, read_stats, train_cmd
from tests.trainer.test_train_loop import checkpoint_values


def test_mirrored_two_replicas_match_one_device(tiny_runs, tmp_path):
    run = tmp_path / "mirrored"
    proc = subprocess.run(train_cmd(*cli_args(run, train_steps=2, logical_cpus=2, strategy="mirrored")),
                          capture_output=True, text=True, env=child_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "on 2 replica(s)" in proc.stdout
    one, two = read_stats(tiny_runs["straight"])[:2], read_stats(run)
    terms = ("g_total", "d_total", "g_gan", "g_feat", "g_local_l1", "g_class", "d_real", "d_fake")
    for key in terms:  # step 1: same weights, same global batch split over 2 replicas
        assert two[0][key] == pytest.approx(one[0][key], rel=1e-5, abs=1e-6), key
    for key in ("g_total", "d_total"):  # step 2, after one update of each network
        assert two[1][key] == pytest.approx(one[1][key], rel=2e-4), key
    for key in terms:
        assert two[1][key] == pytest.approx(one[1][key], abs=3e-3), key
    a = checkpoint_values(tiny_runs["straight"] / "checkpoints" / "ckpt-2")
    b = checkpoint_values(run / "checkpoints" / "ckpt-2")
    weights = [k for k in a if k.startswith(("generator/", "discriminator/", "g_optimizer/_trainable",
                                             "d_optimizer/_trainable"))]
    assert len(weights) > 100
    diffs = np.array([float(np.max(np.abs(a[k] - b[k]))) for k in weights])
    # Adam's first steps move each weight by ~lr * sign(g): where the true gradient is ~0 (e.g. a conv bias right
    # before a norm) the sign is rounding noise, so single weights may differ by up to 2 steps x 2 lr_d = 1.6e-3.
    assert np.median(diffs) < 1e-4 and diffs.max() < 2.5e-3, (np.median(diffs), diffs.max())


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_two_processes(tmp_path):
    run = tmp_path / "multi_worker"
    cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(2)]}
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(train_cmd(*cli_args(run, train_steps=3, strategy="multi_worker")),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env=child_env(TF_CONFIG=tf_config)))
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
    assert not list((run / "checkpoints").glob(".tmp-*"))
