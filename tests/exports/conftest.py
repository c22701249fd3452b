"""One SavedModel export of the session's tiny LGGAN++ run, shared by the export, client and demo tests; it is
written by the CLI as on a core install (`pip install -e .`, no tensorflow-serving-api)."""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


CORE_INSTALL_MESSAGE = "tensorflow-serving-api is not installed (simulated core install)"


def core_install_env(folder) -> dict:
    """Environment in which `import tensorflow_serving` fails, as after `pip install -e .` without extras: a
    stand-in package that raises ImportError comes first on PYTHONPATH."""
    package = folder / "tensorflow_serving"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(f"raise ImportError({CORE_INSTALL_MESSAGE!r})\n")
    path = [str(folder), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


@pytest.fixture(scope="session")
def core_env(tmp_path_factory):
    return core_install_env(tmp_path_factory.mktemp("core_install"))


@pytest.fixture(scope="session")
def exported(tiny_run_dir, tmp_path_factory, core_env):
    """(export base dir, version dir) written by the CLI `python -m exports.export_saved_model` without
    tensorflow-serving-api (core_env). ~25 s."""
    export_dir = tmp_path_factory.mktemp("export") / "lggan"
    proc = subprocess.run([sys.executable, "-m", "exports.export_saved_model", f"--model_dir={tiny_run_dir}",
                           f"--export_dir={export_dir}"], capture_output=True, text=True, timeout=600, cwd=REPO,
                          env=core_env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return export_dir, export_dir / "2"


@pytest.fixture(scope="session")
def loaded_export(exported):
    import tensorflow as tf

    return tf.saved_model.load(str(exported[1]))


@pytest.fixture(scope="session")
def sean_export(sean_runs, tmp_path_factory):
    """(version dir, loaded SavedModel) of the session's tiny SEAN+SAU run, with its mean style codes."""
    from exports.export_saved_model import export_run
    from lggan_tf import mean_style_codes

    run_dir = str(sean_runs["straight"])
    if not (sean_runs["straight"] / mean_style_codes.MEAN_CODES_FILE).exists():
        assert mean_style_codes.main(["--model_dir", run_dir, "--split", "val", "--num_samples", "4"]) == 0
    path = export_run(run_dir, str(tmp_path_factory.mktemp("sean_export") / "sean"))
    import tensorflow as tf

    return path, tf.saved_model.load(path)
