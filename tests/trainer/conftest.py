"""Shared tiny training runs (each distinct trace of the G and D steps costs 10-20 s on 2 cores, so the in-process
runs are made once per session and read back by several tests; multi-process tests call train.py)."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# 64x64 LGGAN++ (ngf 4, ndf 8; 64 px so the 2x2 decoder latent gives BatchNorm 8 values per channel, not 2), batch 2, 6 scenes = 3 steps per epoch, 0 + 2 epochs (rate halves in epoch 1).
TINY_FLAGS = dict(height=64, width=64, ngf=4, ndf=8, spade_hidden=8, batch_size=2, num_examples=6, niter=0,
                  niter_decay=2, mixed_precision="float32", deterministic=True, log_every_steps=1,
                  summary_every_steps=3, save_every_steps=2, keep_checkpoints=3, num_sample_images=2)


def tiny_config(model_dir, **changes):
    from lggan_tf.train_config import TrainConfig

    return TrainConfig(**{**TINY_FLAGS, "model_dir": str(model_dir), **changes})


def cli_args(model_dir, **changes):
    values = {**TINY_FLAGS, "model_dir": str(model_dir), **changes}
    args = []
    for key, value in values.items():
        if isinstance(value, bool):
            args.append(f"--{key}" if value else f"--no{key}")
        else:
            args.append(f"--{key}={value}")
    return args


def train_cmd(*args):
    return [sys.executable, str(REPO / "train.py"), *args]


def child_env(**extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **extra}
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def read_stats(model_dir):
    path = pathlib.Path(model_dir) / "stats.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def latest_step(model_dir):
    import tensorflow as tf

    path = tf.train.latest_checkpoint(str(pathlib.Path(model_dir) / "checkpoints"))
    return None if path is None else int(path.rsplit("-", 1)[1])


def wait_for(predicate, timeout, proc=None, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) before {what}:\n{proc.stdout.read()}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop(proc, sig=signal.SIGKILL):
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout=120)


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """Run 'straight': 6 steps in one go (checkpoints 2, 4, 6). Run 'resumed': restarted from straight's ckpt-2 in a
    fresh trainer (new models, optimisers, pipeline) and trained to step 6."""
    from lggan_tf import trainer

    root = tmp_path_factory.mktemp("tiny_runs")
    straight, resumed = root / "straight", root / "resumed"
    logs = {"straight": [], "resumed": []}
    r1 = trainer.train(tiny_config(straight), flags_text="--dataset=synthetic\n", log=logs["straight"].append)
    r2 = trainer.train(tiny_config(resumed, resume=str(straight / "checkpoints" / "ckpt-2")),
                       log=logs["resumed"].append)
    return {"straight": straight, "resumed": resumed, "results": (r1, r2), "logs": logs}


class BackgroundRuns:
    """Training subprocesses started together; `wait(name)` -> (model_dir, stdout) once that one exits 0."""

    def __init__(self, root, commands):
        self.dirs = {name: root / name for name in commands}
        self.procs = {name: subprocess.Popen(cmd(self.dirs[name]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                             text=True, env=child_env(), cwd=REPO)
                      for name, cmd in commands.items()}
        self.outputs = {}

    def wait(self, name, timeout=900):
        if name not in self.outputs:
            self.outputs[name] = self.procs[name].communicate(timeout=timeout)[0]
        assert self.procs[name].returncode == 0, self.outputs[name][-3000:]
        return self.dirs[name], self.outputs[name]

    def close(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def mirrored_runs(tmp_path_factory):
    """The tiny run for 2 steps on 2 logical CPUs with MirroredStrategy ('synced', `train.py`) and the same with
    SPADE's batch norm not synchronised ('unsync', tests/trainer/unsync_mirrored.py), both started in the
    background at once: tracing is mostly single-threaded, so on 2 cores they overlap each other and the in-process
    `tiny_runs` (request this fixture before `tiny_runs`)."""
    commands = {
        "synced": lambda d: train_cmd(*cli_args(d, train_steps=2, logical_cpus=2, strategy="mirrored")),
        "unsync": lambda d: [sys.executable, "-m", "tests.trainer.unsync_mirrored", str(d)],
    }
    runs = BackgroundRuns(tmp_path_factory.mktemp("mirrored"), commands)
    yield runs
    runs.close()
