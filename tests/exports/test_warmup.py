"""Export on a core install (no tensorflow-serving-api): the warm-up records are encoded by hand
(exports/warmup.py) and must be the bytes tensorflow_serving.apis writes for the same request."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from exports import export_saved_model as exporter
from exports.warmup import _varint, encode_predict_log
from tests.conftest import CORE_INSTALL_MESSAGE


def api_log(model_name, signature_name, inputs):
    """The same PredictionLog built with tensorflow-serving-api (installed with the test extras)."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name=model_name,
                                                                        signature_name=signature_name))
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))


@pytest.mark.parametrize("value, encoded", [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"),
                                            (300, b"\xac\x02"), (16384, b"\x80\x80\x01")])
def test_varints_are_the_protobuf_encoding(value, encoded):
    assert _varint(value) == encoded  # values from the protobuf encoding guide (300 = ac 02)


@pytest.mark.parametrize("inputs", [
    {"label_map": np.zeros([1, 64, 64], np.int32)},  # 16 KiB tensor_content: a 3-byte length
    {"label_map": np.arange(6, dtype=np.int32).reshape(1, 2, 3), "semantic": np.full([2, 4, 4, 3], 7, np.uint8),
     "input_image": np.arange(48, dtype=np.uint8).reshape(1, 4, 4, 3)},
])
def test_hand_encoded_log_is_what_the_serving_api_writes(inputs):
    from tensorflow_serving.apis import prediction_log_pb2

    want = api_log("lggan", "serving_default", inputs)
    data = encode_predict_log("lggan", "serving_default", inputs)
    assert data == want.SerializeToString(deterministic=True)  # deterministic: map entries in key order
    parsed = prediction_log_pb2.PredictionLog.FromString(data)
    assert parsed == want
    for key, value in inputs.items():
        np.testing.assert_array_equal(tf.make_ndarray(parsed.predict_log.request.inputs[key]), value)


def test_the_simulated_core_install_has_no_serving_api(core_env):
    proc = subprocess.run([sys.executable, "-c", "import tensorflow_serving.apis"], capture_output=True, text=True,
                          env=core_env, timeout=120)
    assert proc.returncode != 0 and CORE_INSTALL_MESSAGE in proc.stderr


def test_core_install_export_writes_the_warmup_request(exported, loaded_export):
    """`exported` ran the CLI without tensorflow-serving-api; its warm-up file is the API's record and servable."""
    path = exported[1] / exporter.WARMUP_ASSET
    records = list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())
    want = api_log("lggan", "serving_default", {"label_map": np.zeros([1, 64, 64], np.int32)})
    assert records == [want.SerializeToString(deterministic=True)]
    request = want.predict_log.request
    out = loaded_export.signatures["serving_default"](label_map=tf.make_ndarray(request.inputs["label_map"]))
    assert out["image"].shape == (1, 64, 64, 3)
