"""Faults, through train.py subprocesses on one run directory: SIGKILL then resume, SIGINT saves and exits 0,
a NaN loss stops with a message naming the step and term and keeps the last good checkpoint. The model is the tiny
GauGAN (the fault handling is the trainer's, whatever the generator; its trace costs a third less than LGGAN++'s)."""

import re
import signal
import subprocess

import pytest

from tests.trainer.conftest import child_env, cli_args, latest_step, stop, train_cmd, wait_for

MODEL = dict(model="gaugan", upsampler="nearest")


@pytest.mark.cost(80)
def test_sigkill_resume_sigint_then_nan(tmp_path):
    run = tmp_path / "run"
    args = cli_args(run, train_steps=1000, niter=334, **MODEL)  # 3 steps per epoch: 334 + 2 epochs cover 1000 steps

    killed = subprocess.Popen(train_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=child_env())
    try:
        wait_for(lambda: latest_step(run) is not None, 300, killed, "the first checkpoint")
    finally:
        stop(killed, signal.SIGKILL)
    k = latest_step(run)
    assert k is not None and k % 2 == 0  # only complete checkpoints are ever listed as latest

    resumed = subprocess.Popen(train_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=child_env())
    seen = []
    for line in resumed.stdout:
        seen.append(line)
        match = re.match(r"step (\d+)/1000", line)
        if match and int(match.group(1)) > k:
            resumed.send_signal(signal.SIGINT)
            break
    output = "".join(seen) + resumed.communicate(timeout=120)[0]
    assert resumed.returncode == 0, output[-3000:]
    assert f"(step {k})" in output and "resuming from" in output
    interrupted = re.search(r"interrupted by SIGINT at step (\d+): checkpoint saved", output)
    assert interrupted, output[-3000:]
    m = int(interrupted.group(1))
    assert m > k and latest_step(run) == m

    nan = subprocess.run(train_cmd(*cli_args(run, train_steps=m + 3, niter=334, save_every_steps=1,
                                             inject_nan_at_step=m + 2, **MODEL)),
                         capture_output=True, text=True, env=child_env(), timeout=300)
    assert nan.returncode == 3, nan.stderr[-3000:]
    assert f"non-finite loss at step {m + 2}: g_gan = nan" in nan.stderr
    assert "last good checkpoint is kept" in nan.stderr
    assert latest_step(run) == m + 1
    assert not list((run / "checkpoints").glob(f"ckpt-{m + 2}.*"))
