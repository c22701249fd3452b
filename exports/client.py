"""Send a label-map PNG to a TF Serving endpoint (REST JSON or gRPC) and save the generated image.

    python -m exports.client --server localhost:8501 --protocol rest --model_name lggan \
        --label label.png --output generated.png
    python -m exports.client --server localhost:8500 --protocol grpc --model_name lggan \
        --label label.png [--instance instance.png] --output generated.png

The label PNG holds class ids: 8-bit grayscale, or palette ("P") PNG indices. A colour-coded RGB map needs
`--classes_json` (the export's assets/classes.json) and is mapped to the nearest palette colour per pixel.
`--signature generate_png` sends the PNG bytes as they are and receives PNG bytes (smallest requests);
`serving_default` (default) sends an int32 tensor, `generate_with_instances` adds --instance.

A cross-view export (LGGAN §3.3, Dayton / CVUSA / SVA) takes the input view, the target semantic map and the
target class ids (0..5, 6 = void) of the export's size:

    python -m exports.client --server localhost:8501 --input_image aerial.png --semantic target_seg.png \
        --label target_classes.png --output street.png
    python -m exports.client --server localhost:8501 --six_panel sample.png --classes_json classes.json \
        --output street.png      # an LGGAN six-panel file, preprocessed as the test split
"""

from __future__ import annotations

import base64
import io
import json
import sys
import urllib.error
import urllib.request

import numpy as np

SIGNATURES = ("serving_default", "generate_with_instances", "generate_png")


class ServingError(RuntimeError):
    """The server rejected the request; the message is the server's."""


# --- label maps ----------------------------------------------------------------------------------------------------
def colours_to_labels(rgb: np.ndarray, palette) -> np.ndarray:
    """Colour image uint8 [H,W,3] -> int32 [H,W] class ids of the nearest palette colour (squared RGB distance)."""
    palette = np.asarray(palette, np.int32)
    colours, inverse = np.unique(rgb.reshape(-1, 3).astype(np.int32), axis=0, return_inverse=True)
    nearest = np.argmin(((colours[:, None, :] - palette[None]) ** 2).sum(-1), axis=1)
    return nearest[inverse.reshape(-1)].reshape(rgb.shape[:2]).astype(np.int32)


def labels_to_colours(labels: np.ndarray, palette) -> np.ndarray:
    """int [H,W] class ids -> uint8 [H,W,3] palette colours (ids past the palette, e.g. dontcare, are black)."""
    palette = np.concatenate([np.asarray(palette, np.uint8), np.zeros([1, 3], np.uint8)])
    return palette[np.clip(labels, 0, len(palette) - 1)]


def read_label_png(path: str, palette=None) -> np.ndarray:
    """A label map file -> int32 [H,W] class ids (grayscale values, palette indices or nearest palette colours)."""
    from PIL import Image

    image = Image.open(path)
    if image.mode in ("L", "P", "I", "I;16"):
        return np.asarray(image, np.int32)
    if palette is None:
        raise ValueError(f"{path}: a colour ({image.mode}) label map needs the class palette; pass --classes_json "
                         "(the export's assets/classes.json) or save class ids as an 8-bit grayscale PNG")
    return colours_to_labels(np.asarray(image.convert("RGB")), palette)


def encode_png(array: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))


def read_rgb(path: str) -> np.ndarray:
    """An image file -> uint8 [H,W,3]."""
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def read_six_panel(path: str, contract: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An LGGAN six-panel file (I_a|I_g|S_a|S_g|L_a|L_g) -> (input view, target semantic map uint8 [H,W,3], target
    class ids int32 [H,W], void = label_nc), preprocessed as the export's dataset reads its test split (views in
    its direction, load-size resize, centre crop to the export's size)."""
    from datasets import get_spec
    from datasets.cross_view import test_example

    if contract.get("task") != "cross_view":
        raise ValueError("--six_panel needs --classes_json of a cross-view export (its dataset and size)")
    import tensorflow as tf

    try:
        ex = test_example(get_spec(contract["dataset"]), path, contract["height"], contract["width"])
    except tf.errors.OpError as err:  # unreadable file, or not six panels side by side
        raise ValueError(f"--six_panel={path!r}: {err.message.splitlines()[0]}") from None
    labels = np.where(ex["classes"] < 0, contract["label_nc"], ex["classes"]).astype(np.int32)
    return ex["input_image"], ex["semantic"], labels


# --- transports ----------------------------------------------------------------------------------------------------
def _json_value(value: np.ndarray):
    if value.dtype == object or value.dtype.kind == "S":
        return np.vectorize(lambda b: {"b64": base64.b64encode(b).decode()}, otypes=[object])(value).tolist()
    return value.tolist()


def predict_rest(server: str, model_name: str, signature: str, inputs: dict, timeout: float = 60.0) -> dict:
    """POST /v1/models/<model_name>:predict (columnar "inputs" format) -> {output name: numpy array}."""
    url = server if server.startswith("http") else f"http://{server}"
    body = {"signature_name": signature, "inputs": {k: _json_value(np.asarray(v)) for k, v in inputs.items()}}
    request = urllib.request.Request(f"{url.rstrip('/')}/v1/models/{model_name}:predict",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("error", detail)
        except ValueError:
            pass
        raise ServingError(f"REST {err.code} from {url}: {detail}") from None
    outputs = payload["outputs"]
    if not isinstance(outputs, dict):
        outputs = {"_single": outputs}
    return {k: _from_json(k, v) for k, v in outputs.items()}


def _from_json(name, value):
    def walk(v):
        if isinstance(v, dict) and "b64" in v:
            return base64.b64decode(v["b64"])
        return [walk(x) for x in v] if isinstance(v, list) else v

    value = walk(value)
    if isinstance(value, bytes) or (isinstance(value, list) and value and isinstance(value[0], bytes)):
        return np.array(value, dtype=object)
    return np.array(value)


def predict_grpc(server: str, model_name: str, signature: str, inputs: dict, timeout: float = 60.0) -> dict:
    """tensorflow.serving.PredictionService/Predict -> {output name: numpy array}."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name, request.model_spec.signature_name = model_name, signature
    for k, v in inputs.items():
        request.inputs[k].CopyFrom(tf.make_tensor_proto(v))
    options = [("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)]
    with grpc.insecure_channel(server, options=options) as channel:
        try:
            response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=timeout)
        except grpc.RpcError as err:
            raise ServingError(f"gRPC {err.code().name} from {server}: {err.details()}") from None
    return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}


def generate(server: str, label_map: np.ndarray, protocol: str = "rest", model_name: str = "lggan",
             signature: str = "serving_default", instance_map: np.ndarray | None = None) -> np.ndarray:
    """One label map int [H,W] -> generated uint8 [H,W,3] from a TF Serving endpoint."""
    if signature not in SIGNATURES:
        raise ValueError(f"--signature={signature!r}: expected one of {SIGNATURES}")
    if (instance_map is not None) != (signature == "generate_with_instances"):
        raise ValueError("--instance goes with --signature generate_with_instances (and that signature needs it)")
    predict = _predictor(protocol)
    if signature == "generate_png":
        if label_map.max() > 255 or label_map.min() < 0:
            raise ValueError("generate_png takes 8-bit class ids (0..255); use --signature serving_default")
        data = np.array([encode_png(label_map.astype(np.uint8))], dtype=object)
        out = predict(server, model_name, signature, {"label_png_bytes": data})
        return decode_png(next(iter(out.values()))[0])
    inputs = {"label_map": label_map[None].astype(np.int32)}
    if instance_map is not None:
        inputs["instance_map"] = instance_map[None].astype(np.int32)
    return _image(predict(server, model_name, signature, inputs))


def translate(server: str, input_image: np.ndarray, semantic: np.ndarray, label_map: np.ndarray,
              protocol: str = "rest", model_name: str = "lggan") -> np.ndarray:
    """Cross-view: input view uint8 [H,W,3], target semantic map uint8 [H,W,3], target class ids int [H,W]
    -> generated target view uint8 [H,W,3] (serving_default of a cross-view export)."""
    predict = _predictor(protocol)
    inputs = {"input_image": np.asarray(input_image, np.uint8)[None], "semantic": np.asarray(semantic, np.uint8)[None],
              "label_map": np.asarray(label_map, np.int32)[None]}
    return _image(predict(server, model_name, "serving_default", inputs))


def _predictor(protocol: str):
    if protocol not in ("rest", "grpc"):
        raise ValueError(f"--protocol={protocol!r}: expected 'rest' or 'grpc'")
    return predict_rest if protocol == "rest" else predict_grpc


def _image(out: dict) -> np.ndarray:
    return np.asarray(next(iter(out.values())) if "image" not in out else out["image"], np.uint8)[0]


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m exports.client", description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="host:port (REST 8501 or gRPC 8500 by TF Serving default)")
    parser.add_argument("--protocol", default="rest", choices=["rest", "grpc"])
    parser.add_argument("--model_name", default="lggan")
    parser.add_argument("--signature", default="serving_default", choices=SIGNATURES)
    parser.add_argument("--label", default=None, help="label map PNG (class ids; cross-view: target class ids)")
    parser.add_argument("--instance", default=None, help="instance id PNG (with generate_with_instances)")
    parser.add_argument("--input_image", default=None, help="cross-view: input view (e.g. aerial) image")
    parser.add_argument("--semantic", default=None, help="cross-view: target semantic map (colour) image")
    parser.add_argument("--six_panel", default=None, help="cross-view: an LGGAN six-panel file (instead of the "
                        "three inputs above)")
    parser.add_argument("--classes_json", default=None, help="the export's assets/classes.json (for RGB labels; "
                        "needed with --six_panel)")
    parser.add_argument("--output", required=True, help="where to write the generated PNG")
    args = parser.parse_args(argv)
    try:
        contract = {}
        if args.classes_json:
            with open(args.classes_json) as f:
                contract = json.load(f)
        if args.six_panel:
            image = translate(args.server, *read_six_panel(args.six_panel, contract), args.protocol, args.model_name)
        elif args.input_image or args.semantic:
            if not (args.input_image and args.semantic and args.label):
                raise ValueError("a cross-view request needs --input_image, --semantic and --label (or --six_panel)")
            image = translate(args.server, read_rgb(args.input_image), read_rgb(args.semantic),
                              read_label_png(args.label), args.protocol, args.model_name)
        elif args.label:
            label_map = read_label_png(args.label, contract.get("palette"))
            instance_map = read_label_png(args.instance) if args.instance else None
            image = generate(args.server, label_map, args.protocol, args.model_name, args.signature, instance_map)
        else:
            raise ValueError("pass --label (label map -> image), or --input_image/--semantic/--label or "
                             "--six_panel (cross-view)")
    except (ValueError, OSError, ServingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with open(args.output, "wb") as f:
        f.write(encode_png(image))
    print(json.dumps({"output": args.output, "shape": list(image.shape)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
