"""The session's SavedModel export (`exported`, tests/conftest.py: written by the CLI as on a core install, `pip
install -e .` without tensorflow-serving-api) loaded once for the export, client and demo tests."""

import pytest

from tests.conftest import core_install_env


@pytest.fixture(scope="session")
def core_env(tmp_path_factory):
    return core_install_env(tmp_path_factory.mktemp("core_install"))

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
