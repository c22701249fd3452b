"""The session's SavedModel export (`exported`, tests/conftest.py) loaded once for the export, client and demo tests."""

import pytest


@pytest.fixture(scope="session")
def loaded_export(exported):
    import tensorflow as tf

    return tf.saved_model.load(str(exported[1]))
