"""TF Serving warm-up records (`assets.extra/tf_serving_warmup_requests`) written with core TensorFlow only.

The file is a TFRecord of serialized `tensorflow.serving.PredictionLog` protos. Building them with
tensorflow-serving-api would make that package a core dependency of export, so the few messages involved are
encoded here by hand from their field numbers (tensorflow_serving/apis/*.proto; TensorProto comes from TF core):

    PredictionLog { predict_log = 6: PredictLog { request = 1: PredictRequest {
        model_spec = 1: ModelSpec { name = 1: string, signature_name = 3: string },
        inputs = 2: map<string, TensorProto> (entries: key = 1, value = 2) } } }

tests/exports/test_warmup.py parses the bytes back with tensorflow_serving.apis and compares them with the
messages that package builds.
"""

from __future__ import annotations

import os

import numpy as np

LENGTH_DELIMITED = 2  # protobuf wire type of strings, bytes and embedded messages


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited field: tag (number << 3 | 2), length, payload."""
    return _varint(number << 3 | LENGTH_DELIMITED) + _varint(len(payload)) + payload


def encode_predict_log(model_name: str, signature_name: str, inputs: dict[str, np.ndarray]) -> bytes:
    """Serialized PredictionLog{predict_log{request{model_spec{name, signature_name}, inputs}}} (inputs in
    name order, fields in number order: the bytes protobuf's own serializer writes)."""
    import tensorflow as tf

    model_spec = _field(1, model_name.encode()) + _field(3, signature_name.encode())
    entries = b"".join(_field(2, _field(1, key.encode()) + _field(2, tf.make_tensor_proto(value).SerializeToString()))
                       for key, value in sorted(inputs.items()))
    request = _field(1, model_spec) + entries
    return _field(6, _field(1, request))


def write_warmup_file(version_dir: str, requests: list[bytes], relative_path: str) -> str:
    """Write serialized PredictionLogs as the TFRecord file `version_dir/relative_path`; returns its path."""
    import tensorflow as tf

    path = os.path.join(version_dir, relative_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for record in requests:
            writer.write(record)
    return path


__all__ = ["encode_predict_log", "write_warmup_file"]
