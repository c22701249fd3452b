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


CORE_INSTALL_MESSAGE = "tensorflow-serving-api is not installed (simulated core install)"


def core_install_env(folder: pathlib.Path) -> dict:
    """Environment in which `import tensorflow_serving` fails, as after `pip install -e .` without extras: a
    stand-in package that raises ImportError comes first on PYTHONPATH."""
    package = folder / "tensorflow_serving"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(f"raise ImportError({CORE_INSTALL_MESSAGE!r})\n")
    path = [str(folder), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


class _RunAndExport:
    """The tiny run (`python train.py`, TINY_RUN_FLAGS) and its SavedModel export (`python -m
    exports.export_saved_model`, as on a core install: no tensorflow-serving-api), made once per session in a background thread started as soon as collection ends:
    both are mostly single-threaded (import, tracing), so on 2 cores they overlap the tests collected before their
    first user instead of adding ~1 min to the wall time."""

    def __init__(self, root: pathlib.Path, export: bool):
        import threading

        self.model_dir, self.export_dir = root / "run", root / "export" / "lggan"
        self.export_dir.parent.mkdir(parents=True)
        self.results = {}
        self.events = {"run": threading.Event(), "export": threading.Event()}
        self.thread = threading.Thread(target=self._work, args=(export,), daemon=True)
        self.thread.start()

    def _step(self, name, cmd, env=None):
        import subprocess

        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=REPO, env=env)
            self.results[name] = (proc.returncode, proc.stdout[-2000:] + proc.stderr[-3000:])
        except subprocess.TimeoutExpired as err:
            self.results[name] = (-1, f"timed out after {err.timeout} s")
        self.events[name].set()
        return self.results[name][0] == 0

    def _work(self, export):
        import sys

        ok = self._step("run", [sys.executable, str(REPO / "train.py"), f"--model_dir={self.model_dir}",
                                *TINY_RUN_FLAGS])
        if export and ok:
            self._step("export", [sys.executable, "-m", "exports.export_saved_model", f"--model_dir={self.model_dir}",
                                  f"--export_dir={self.export_dir}"], env=core_install_env(self.model_dir.parent / "core"))
        self.events["export"].set()

    def wait(self, name):
        self.events[name].wait(timeout=1800)
        code, output = self.results.get(name, (None, "not run: the training run before it failed"))
        assert code == 0, f"{name} failed ({code}):\n{output}"


_BACKGROUND = {}
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # set in pytest-xdist's worker processes
if XDIST_WORKER:
    # One worker per core already fills the machine: one TF thread per pool in each worker and in the processes it
    # starts (they inherit the environment), so idle pool threads do not spin against the other worker.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def pytest_configure(config):
    from tests import parallel

    parallel.register_markers(config)


@pytest.hookimpl(tryfirst=True)  # before xdist's worker hook reads the xdist_group markers
def pytest_collection_modifyitems(config, items):
    if XDIST_WORKER:
        from tests import parallel

        parallel.group_and_order(items)


def pytest_collection_finish(session):
    """Start the tiny run (and its export) in the background when a collected test needs them. Not in an xdist
    worker: every worker collects every test, and only the one that gets their group should make them (on first
    use, `_background_job`), while the other worker keeps the second core busy."""
    import tempfile

    if XDIST_WORKER:
        return
    needed = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    if "tiny_run_dir" in needed or "exported" in needed:
        root = pathlib.Path(tempfile.mkdtemp(prefix="lggan-tests-"))
        _BACKGROUND["run"] = _RunAndExport(root, export="exported" in needed)


def pytest_sessionfinish(session, exitstatus):
    import shutil

    job = _BACKGROUND.pop("run", None)
    if job is not None:
        job.thread.join(timeout=1800)
        shutil.rmtree(job.model_dir.parent, ignore_errors=True)


def _background_job():
    if "run" not in _BACKGROUND:  # e.g. a fixture requested dynamically: start it now
        import tempfile

        _BACKGROUND["run"] = _RunAndExport(pathlib.Path(tempfile.mkdtemp(prefix="lggan-tests-")), export=True)
    return _BACKGROUND["run"]


@pytest.fixture(scope="session")
def tiny_run_dir():
    """A 2-step LGGAN++ run on 64x64 synthetic scenes made once per session with `python train.py` (a real run
    directory: config.json, checkpoints/ckpt-2, tb/, samples/), for evaluation and export tests. ~30 s, started in
    the background when collection ends."""
    job = _background_job()
    job.wait("run")
    return job.model_dir


@pytest.fixture(scope="session")
def exported(tiny_run_dir):
    """(export base dir, version dir) of the tiny run written by the CLI `python -m exports.export_saved_model`,
    shared by the export, client, demo and evaluation tests. ~25 s, in the background after the run."""
    job = _background_job()
    job.wait("export")
    return job.export_dir, job.export_dir / "2"


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
