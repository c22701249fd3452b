"""SavedModel export of a cross-view run (LGGAN §3.3): its signatures and input specs, outputs equal to the
checkpoint's generator fed by a NumPy encoding of the inputs (uint8 -> [-1, 1], one-hot masks with void = 0) and a
NumPy uint8 conversion, Eq. (8) on the exported debug outputs, in-graph rejection of bad inputs, assets, the
warm-up request, and a client round trip (REST, --six_panel) through the stand-in server."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from datasets.cross_view import CLASS_NAMES
from exports import client
from exports import export_saved_model as exporter
from tests.reference_generator import assert_uint8_matches

H = W = 64
VOID = len(CLASS_NAMES)  # 6


@pytest.fixture(scope="module")
def cv_export(dayton_run, tmp_path_factory):
    """(export base dir, version dir, loaded SavedModel) of the session's 3-step Dayton run, written by the CLI."""
    export_dir = tmp_path_factory.mktemp("cv_export") / "lggan_cv"
    assert exporter.main([f"--model_dir={dayton_run['model_dir']}", f"--export_dir={export_dir}",
                          "--model_name=lggan_cv"]) == 0
    return export_dir, export_dir / "3", tf.saved_model.load(str(export_dir / "3"))


@pytest.fixture(scope="module")
def dayton_inputs(dayton_data):
    """Three Dayton test samples at 64x64 as the export takes them: I_a, S_g uint8 [3,64,64,3], class ids [3,64,64]."""
    from datasets import build_dataset, get_spec

    ds = build_dataset(get_spec("dayton"), str(dayton_data), "test", 3, training=False, height=H, width=W)
    batch = next(ds.as_numpy_iterator())
    to_uint8 = lambda x: np.round((x + 1.0) * 127.5).astype(np.uint8)  # noqa: E731 (exact: x = u / 127.5 - 1)
    labels = np.where(batch["masks"].sum(-1) > 0, batch["masks"].argmax(-1), VOID).astype(np.int32)
    labels[0, :16, :16] = VOID  # the samples have no void pixel; give one a void block
    assert len(np.unique(labels)) == 7
    return to_uint8(batch["input_image"]), to_uint8(batch["semantic"]), labels


@pytest.fixture(scope="module")
def reference(dayton_run, dayton_inputs):
    """The generator rebuilt from the run's config, ckpt-3 restored, on inputs encoded with NumPy: float outputs."""
    from lggan_tf.train_setup import build_models, resolve_run

    config = dayton_run["config"]
    generator, _ = build_models(config, resolve_run(config, count=False))
    ckpt = tf.train.Checkpoint(generator=generator).read(str(dayton_run["model_dir"] / "checkpoints" / "ckpt-3"))
    ckpt.expect_partial().assert_existing_objects_matched()
    aerial, semantic, labels = dayton_inputs
    x = np.concatenate([aerial, semantic], -1).astype(np.float32) / 127.5 - 1.0
    masks = np.eye(VOID + 1, dtype=np.float32)[labels][..., :VOID]  # void -> all-zero masks, as training
    return {k: v.numpy() for k, v in generator(x, masks, training=False).items()}


def test_signatures_and_input_specs(cv_export):
    signatures = cv_export[2].signatures
    assert set(signatures) == {"serving_default", "generate_debug"}
    for name, outputs in (("serving_default", {"image"}),
                          ("generate_debug", {"image", "image_global", "image_local", "weight_map"})):
        inputs = signatures[name].structured_input_signature[1]
        assert {k: v.dtype for k, v in inputs.items()} == {"input_image": tf.uint8, "semantic": tf.uint8,
                                                            "label_map": tf.int32}
        out = signatures[name].structured_outputs
        assert set(out) == outputs and out["image"].dtype == tf.uint8 and out["image"].shape.as_list() == [None, H, W, 3]
    assert signatures["generate_debug"].structured_outputs["weight_map"].shape.as_list() == [None, H, W, 2]


def test_exported_images_equal_the_checkpoint_generator(cv_export, dayton_inputs, reference):
    aerial, semantic, labels = dayton_inputs
    signatures = cv_export[2].signatures
    served = signatures["serving_default"](input_image=aerial, semantic=semantic, label_map=labels)["image"].numpy()
    assert_uint8_matches(served, reference["image"])
    debug = {k: v.numpy() for k, v in signatures["generate_debug"](input_image=aerial, semantic=semantic,
                                                                    label_map=labels).items()}
    for key in ("image", "image_global", "image_local"):
        assert_uint8_matches(debug[key], reference[key], key)
    np.testing.assert_allclose(debug["weight_map"], reference["weight_map"], atol=1e-5)  # graph vs eager float order
    # Eq. (8) on the exported outputs: I_C = W_l I_L + W_g I_G (uint8 rounding of three images: <= 1 level).
    w = debug["weight_map"]
    fused = w[..., :1] * debug["image_local"].astype(np.float32) + w[..., 1:] * debug["image_global"]
    assert np.abs(fused - debug["image"]).max() <= 1.0
    assert not np.array_equal(debug["image"], debug["image_global"])
    # The label map drives the local branch: all-void labels (all-zero masks) change the image.
    void = signatures["serving_default"](input_image=aerial, semantic=semantic,
                                         label_map=np.full_like(labels, VOID))["image"].numpy()
    assert not np.array_equal(void, served)


@pytest.mark.parametrize("changes, error, message", [
    ({"label_map": np.full([1, H, W], VOID + 1, np.int32)}, tf.errors.InvalidArgumentError,
     r"label_map: class ids must be in \[0, 7\) \(label_nc=6 \+ void id 6, dayton\); got min, max"),
    ({"label_map": np.full([1, H, W], -1, np.int32)}, tf.errors.InvalidArgumentError, r"got min, max"),
    ({"input_image": np.zeros([1, 32, 32, 3], np.uint8)}, tf.errors.InvalidArgumentError,
     r"input_image: expected uint8 RGB \[batch, 64, 64, 3\]; got shape"),
    ({"semantic": np.zeros([1, H, W], np.uint8)}, tf.errors.InvalidArgumentError,
     r"semantic: expected uint8 RGB \[batch, 64, 64, 3\]; got shape"),
    ({"label_map": np.zeros([1, H, W, 1], np.int32)}, tf.errors.InvalidArgumentError,
     r"label_map: expected int32 \[batch, 64, 64\]; got shape"),
    ({"input_image": np.zeros([1, H, W, 3], np.float32)}, (TypeError, ValueError, tf.errors.InvalidArgumentError),
     r"uint8"),
])
def test_bad_inputs_are_rejected_with_what_was_expected(cv_export, changes, error, message):
    inputs = {"input_image": np.zeros([1, H, W, 3], np.uint8), "semantic": np.zeros([1, H, W, 3], np.uint8),
              "label_map": np.zeros([1, H, W], np.int32), **changes}
    with pytest.raises(error, match=message):
        cv_export[2].signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})


def test_assets_and_warmup_request(cv_export):
    from tensorflow_serving.apis import prediction_log_pb2

    contract = exporter.read_contract(str(cv_export[1]))
    assert (contract["task"], contract["dataset"], contract["height"], contract["width"]) == ("cross_view", "dayton",
                                                                                              H, W)
    assert tuple(contract["class_names"]) == CLASS_NAMES and contract["label_nc"] == VOID
    records = list(tf.data.TFRecordDataset(str(cv_export[1] / exporter.WARMUP_ASSET)).as_numpy_iterator())
    request = prediction_log_pb2.PredictionLog.FromString(records[0]).predict_log.request
    assert (len(records), request.model_spec.name, request.model_spec.signature_name) == (1, "lggan_cv",
                                                                                          "serving_default")
    inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
    assert {k: (v.dtype, v.shape) for k, v in inputs.items()} == {
        "input_image": (np.uint8, (1, H, W, 3)), "semantic": (np.uint8, (1, H, W, 3)), "label_map": (np.int32, (1, H, W))}
    out = cv_export[2].signatures["serving_default"](**inputs)["image"]  # the warm-up request is servable
    assert out.shape == (1, H, W, 3)


def test_client_round_trip_with_a_six_panel_file(cv_export, dayton_data, dayton_inputs, tmp_path):
    """--six_panel preprocesses a file as the test split: its request is the pipeline's test example (the first of
    dayton_inputs), the served image comes back through REST, and the three-file form gives the same image."""
    from exports.standin_server import StandInServer

    from datasets import discover, get_spec

    aerial, semantic, labels = dayton_inputs

    six_panel = discover(get_spec("dayton"), str(dayton_data), "test")[0].image  # the pipeline's first example
    sent = client.read_six_panel(six_panel, exporter.read_contract(str(cv_export[1])))
    np.testing.assert_array_equal(sent[0], aerial[0])
    np.testing.assert_array_equal(sent[1], semantic[0])
    keep = labels[0] != VOID  # dayton_inputs gave this sample a void block
    np.testing.assert_array_equal(sent[2][keep], labels[0][keep])
    want = cv_export[2].signatures["serving_default"](input_image=sent[0][None], semantic=sent[1][None],
                                                      label_map=sent[2][None])["image"].numpy()[0]
    server = StandInServer(str(cv_export[0]), model_name="lggan_cv").start()
    try:
        out = tmp_path / "street.png"
        code = client.main([f"--server={server.rest_url}", "--model_name=lggan_cv", f"--six_panel={six_panel}",
                            f"--classes_json={cv_export[1] / 'assets' / 'classes.json'}", f"--output={out}"])
        assert code == 0
        np.testing.assert_array_equal(np.asarray(Image.open(out)), want)
        for name, array in (("aerial", sent[0]), ("semantic", sent[1]), ("labels", sent[2].astype(np.uint8))):
            Image.fromarray(array).save(tmp_path / f"{name}.png")
        code = client.main([f"--server={server.rest_url}", "--model_name=lggan_cv", f"--output={out}",
                            f"--input_image={tmp_path / 'aerial.png'}", f"--semantic={tmp_path / 'semantic.png'}",
                            f"--label={tmp_path / 'labels.png'}"])
        assert code == 0
        np.testing.assert_array_equal(np.asarray(Image.open(out)), want)
    finally:
        server.stop()
    assert client.main([f"--server={server.rest_url}", f"--six_panel={six_panel}", f"--output={out}"]) == 2


def test_the_painting_demo_refuses_a_cross_view_export(cv_export):
    from exports.demo import Painter

    with pytest.raises(exporter.ExportError, match="is a cross_view export; the demo paints label maps"):
        Painter(str(cv_export[0]))
