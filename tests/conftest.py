"""Session-wide test setup: quiet TF logs, tiny-config helpers, and the shared sample-data location."""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = pathlib.Path(os.environ.get("LGGAN_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data():
    """Path to ../shared/data (real dataset samples); skips the test with the reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real dataset samples not found at {SHARED_DATA} (set LGGAN_SHARED_DATA to the folder)")
    return SHARED_DATA


TINY_RUN_FLAGS = ["--dataset=synthetic", "--model=lggan", "--upsampler=sau", "--height=64", "--width=64", "--ngf=4",
                  "--ndf=8", "--spade_hidden=8", "--batch_size=2", "--num_examples=8", "--train_steps=2",
                  "--save_every_steps=2", "--summary_every_steps=2", "--log_every_steps=1",
                  "--mixed_precision=float32", "--lambda_vgg=0", "--vgg_weights=none"]


@pytest.fixture(scope="session")
def tiny_run_dir(tmp_path_factory):
    """A 2-step LGGAN++ run on 64x64 synthetic scenes made once per session with `python train.py` (a real run
    directory: config.json, checkpoints/ckpt-2, tb/, samples/), for evaluation and export tests. ~30 s."""
    import subprocess
    import sys

    model_dir = tmp_path_factory.mktemp("tiny_run") / "run"
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), f"--model_dir={model_dir}", *TINY_RUN_FLAGS],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return model_dir


@pytest.fixture(scope="session")
def tiny_segmenter(tmp_path_factory):
    """A segmenter trained for a few steps (plumbing, not quality)."""
    from lggan_tf import segmenter

    out = tmp_path_factory.mktemp("segmenter")
    segmenter.train_segmenter(str(out), "synthetic", steps=3, batch_size=2, height=32, width=32, model_width=4,
                              log_every=1)
    return out


# 64x64 cross-view LGGAN on the Dayton samples (ngf 4, ndf 8), batch 2, 4 samples = 2 steps per epoch, 0 + 2 epochs.
DAYTON_RUN = dict(dataset="dayton", height=64, width=64, ngf=4, ndf=8, batch_size=2, num_examples=4, niter=0,
                  niter_decay=2, train_steps=3, mixed_precision="float32", deterministic=True, lambda_vgg=0.0,
                  vgg_weights="none", log_every_steps=1, summary_every_steps=2, save_every_steps=2,
                  num_sample_images=2)


@pytest.fixture(scope="session")
def dayton_data(shared_data, tmp_path_factory):
    """A Dayton folder (train/, test/) of symlinks to the shared samples."""
    data = tmp_path_factory.mktemp("dayton") / "dayton"
    for split in ("train", "test"):
        (data / split).mkdir(parents=True)
        for f in sorted((shared_data / "dayton_samples" / split).iterdir()):
            os.symlink(f, data / split / f.name)
    return data


@pytest.fixture(scope="session")
def dayton_run(dayton_data, tmp_path_factory):
    """A 3-step cross-view run (DAYTON_RUN; checkpoints 2 and 3) trained in-process once per session, for the
    cross-view trainer and export tests: {"model_dir", "result", "config"}."""
    from lggan_tf import trainer
    from lggan_tf.train_config import TrainConfig

    model_dir = tmp_path_factory.mktemp("cv_run") / "straight"
    config = TrainConfig.cross_view(**DAYTON_RUN, data_dir=str(dayton_data), model_dir=str(model_dir))
    return {"model_dir": model_dir, "result": trainer.train(config, log=lambda _: None), "config": config}


SEAN_TINY = dict(model="sean", upsampler="sau", style_dim=16, height=64, width=64, ngf=4, ndf=8, spade_hidden=8,
                 batch_size=2, num_examples=4, niter=0, niter_decay=2, mixed_precision="float32", deterministic=True,
                 log_every_steps=1, summary_every_steps=2, save_every_steps=2, keep_checkpoints=3,
                 num_sample_images=2)


@pytest.fixture(scope="session")
def sean_runs(tmp_path_factory):
    """Tiny SEAN+SAU on synthetic scenes (64x64, ngf 4, 16-d codes), in process: 'straight' trains 4 steps
    (checkpoints 2, 4); 'resumed' restarts from straight's ckpt-2 in fresh objects and trains to 4. Shared by the
    training, style-transfer and export tests."""
    from lggan_tf import trainer
    from lggan_tf.train_config import TrainConfig

    root = tmp_path_factory.mktemp("sean_runs")
    straight, resumed = root / "straight", root / "resumed"
    r1 = trainer.train(TrainConfig(**SEAN_TINY, model_dir=str(straight)), flags_text="--model=sean\n",
                       log=lambda line: None)
    r2 = trainer.train(TrainConfig(**SEAN_TINY, model_dir=str(resumed),
                                   resume=str(straight / "checkpoints" / "ckpt-2")), log=lambda line: None)
    return {"straight": straight, "resumed": resumed, "results": (r1, r2)}
