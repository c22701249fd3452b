"""A stand-in for `tensorflow_model_server` (not installable here) speaking its two public APIs over an export.

    server = StandInServer("exported/lggan", model_name="lggan").start()   # 127.0.0.1, free ports
    server.grpc_target  -> "127.0.0.1:PORT"   (tensorflow.serving.PredictionService/Predict)
    server.rest_url     -> "http://127.0.0.1:PORT"  (POST /v1/models/<name>[/versions/<v>]:predict)
    server.stop()

or `python -m exports.standin_server --export_dir DIR [--grpc_port P] [--rest_port P]`. It loads the latest version
with tf.saved_model.load and runs the requested signature, so the client and the export contract can be tested end
to end. Errors map like TF Serving's: InvalidArgument -> gRPC INVALID_ARGUMENT / HTTP 400 {"error": message};
unknown model or signature -> NOT_FOUND / 404. REST follows the TF Serving JSON API: row ("instances") or columnar
("inputs") format, {"b64": ...} for binary strings, outputs whose name ends in "_bytes" base64-encoded.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import tensorflow as tf

from exports.export_saved_model import latest_version_dir

PREDICT_PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?:predict$")


class NotFound(KeyError):
    pass


class ModelHost:
    """The loaded SavedModel and how to run one of its signatures on numpy inputs."""

    def __init__(self, export_dir: str, model_name: str):
        self.path = latest_version_dir(export_dir)
        self.version = int(os.path.basename(self.path)) if os.path.basename(self.path).isdigit() else 1
        self.model_name = model_name
        self.model = tf.saved_model.load(self.path)

    def check(self, name: str, version: int | None):
        if name != self.model_name:
            raise NotFound(f"Servable not found for request: Latest({name})")
        if version not in (None, 0, self.version):
            raise NotFound(f"Servable not found for request: Specific({name}, {version})")

    def run(self, signature: str, inputs: dict) -> dict:
        signature = signature or "serving_default"
        if signature not in self.model.signatures:
            raise NotFound(f"Serving signature name: \"{signature}\" not found in signature def")
        fn = self.model.signatures[signature]
        expected = set(fn.structured_input_signature[1])
        if set(inputs) != expected:
            raise tf.errors.InvalidArgumentError(None, None, f"input names {sorted(inputs)} do not match the "
                                                 f"signature's {sorted(expected)}")
        specs = fn.structured_input_signature[1]
        tensors = {k: tf.convert_to_tensor(v, dtype=specs[k].dtype) for k, v in inputs.items()}
        return {k: v.numpy() for k, v in fn(**tensors).items()}


# --- gRPC --------------------------------------------------------------------------------------------------------------
def _grpc_servicer(host: ModelHost):
    import grpc
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):
            try:
                spec = request.model_spec
                host.check(spec.name, spec.version.value if spec.HasField("version") else None)
                inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
                outputs = host.run(spec.signature_name, inputs)
            except NotFound as err:
                context.abort(grpc.StatusCode.NOT_FOUND, str(err.args[0]))
            except (tf.errors.InvalidArgumentError, ValueError, TypeError) as err:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, getattr(err, "message", str(err)))
            response = predict_pb2.PredictResponse()
            response.model_spec.name = host.model_name
            response.model_spec.version.value = host.version
            response.model_spec.signature_name = spec.signature_name or "serving_default"
            for k, v in outputs.items():
                response.outputs[k].CopyFrom(tf.make_tensor_proto(v))
            return response

    return Servicer()


# --- REST --------------------------------------------------------------------------------------------------------------
def _decode_json_value(value):
    """Nested lists with {"b64": ...} leaves -> numpy (bytes for b64 leaves)."""
    def walk(v):
        if isinstance(v, dict) and set(v) == {"b64"}:
            return base64.b64decode(v["b64"])
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    value = walk(value)
    return np.array(value, dtype=object) if _has_bytes(value) else np.array(value)


def _has_bytes(v):
    return isinstance(v, bytes) or (isinstance(v, list) and bool(v) and _has_bytes(v[0]))


def _encode_output(name: str, value: np.ndarray):
    if value.dtype == object:
        if name.endswith("_bytes"):
            return np.vectorize(lambda b: {"b64": base64.b64encode(b).decode()}, otypes=[object])(value).tolist()
        return np.vectorize(lambda b: b.decode("utf-8", "replace"), otypes=[object])(value).tolist()
    return value.tolist()


def rest_predict(host: ModelHost, body: dict) -> dict:
    """TF Serving's JSON predict: {"signature_name", "instances": [...]} or {"inputs": ...}."""
    signature = body.get("signature_name", "serving_default")
    if ("instances" in body) == ("inputs" in body):
        raise ValueError("JSON body must have exactly one of 'instances' (row format) or 'inputs' (columnar)")
    fn = host.model.signatures.get(signature)
    if fn is None:
        raise NotFound(f"Serving signature name: \"{signature}\" not found in signature def")
    names = sorted(fn.structured_input_signature[1])
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows, list):
            raise ValueError("'instances' must be a list")
        if len(names) == 1 and not (rows and isinstance(rows[0], dict) and set(rows[0]) == set(names)):
            inputs = {names[0]: _decode_json_value(rows)}
        else:
            inputs = {k: _decode_json_value([row[k] for row in rows]) for k in names}
        outputs = host.run(signature, inputs)
        if len(outputs) == 1:
            (name, value), = outputs.items()
            return {"predictions": _encode_output(name, value)}
        encoded = {k: _encode_output(k, v) for k, v in outputs.items()}
        batch = len(next(iter(encoded.values())))
        return {"predictions": [{k: encoded[k][i] for k in encoded} for i in range(batch)]}
    columns = body["inputs"]
    inputs = ({k: _decode_json_value(v) for k, v in columns.items()} if isinstance(columns, dict)
              else {names[0]: _decode_json_value(columns)})
    outputs = host.run(signature, inputs)
    encoded = {k: _encode_output(k, v) for k, v in outputs.items()}
    return {"outputs": next(iter(encoded.values())) if len(encoded) == 1 else encoded}


def _rest_handler(host: ModelHost):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, code, payload):
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            match = PREDICT_PATH.match(self.path)
            if not match:
                return self._reply(404, {"error": f"Malformed request: POST {self.path}"})
            try:
                host.check(match.group(1), int(match.group(2)) if match.group(2) else None)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                self._reply(200, rest_predict(host, body))
            except NotFound as err:
                self._reply(404, {"error": str(err.args[0])})
            except tf.errors.InvalidArgumentError as err:
                self._reply(400, {"error": err.message})
            except (ValueError, TypeError, KeyError) as err:
                self._reply(400, {"error": str(err)})

    return Handler


class StandInServer:
    """gRPC + REST stand-in for tensorflow_model_server on 127.0.0.1 (port 0 = a free port)."""

    def __init__(self, export_dir: str, model_name: str = "lggan", grpc_port: int = 0, rest_port: int = 0):
        self.host = ModelHost(export_dir, model_name)
        self._grpc_port, self._rest_port = grpc_port, rest_port
        self.grpc_target = self.rest_url = None

    def start(self) -> "StandInServer":
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(_grpc_servicer(self.host), self._grpc)
        port = self._grpc.add_insecure_port(f"127.0.0.1:{self._grpc_port}")
        self._grpc.start()
        self.grpc_target = f"127.0.0.1:{port}"
        self._http = ThreadingHTTPServer(("127.0.0.1", self._rest_port), _rest_handler(self.host))
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        self.rest_url = f"http://127.0.0.1:{self._http.server_address[1]}"
        return self

    def stop(self):
        self._http.shutdown()
        self._http.server_close()
        self._grpc.stop(grace=None)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m exports.standin_server", description=__doc__.split("\n")[0])
    parser.add_argument("--export_dir", required=True)
    parser.add_argument("--model_name", default="lggan")
    parser.add_argument("--grpc_port", type=int, default=8500)
    parser.add_argument("--rest_port", type=int, default=8501)
    args = parser.parse_args(argv)
    server = StandInServer(args.export_dir, args.model_name, args.grpc_port, args.rest_port).start()
    print(json.dumps({"grpc": server.grpc_target, "rest": server.rest_url, "model": server.host.path}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
