"""SavedModel export: signatures and dtypes, identity with the checkpoint's generator, in-graph input checks,
assets and the warm-up file, versioning and atomic writes."""

import subprocess

import numpy as np
import pytest
import tensorflow as tf

from exports import export_saved_model as exporter
from lggan_tf.inference import load_run
from tests.reference_generator import assert_uint8_matches, checkpoint_generator, np_semantic, np_uint8

H = W = 64


def scene(seed=0, batch=2):
    """Random blocky label (ids 0..label_nc-1) and instance maps [B,64,64] int32."""
    rng = np.random.default_rng(seed)
    labels = np.kron(rng.integers(0, 8, [batch, 8, 8]), np.ones([8, 8], np.int64)).astype(np.int32)
    instances = np.kron(rng.integers(0, 4, [batch, 4, 4]), np.ones([16, 16], np.int64)).astype(np.int32)
    return labels, instances


def test_saved_model_cli_lists_the_signatures_and_dtypes(exported):
    proc = subprocess.run(["saved_model_cli", "show", "--dir", str(exported[1]), "--all"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    blocks = {b.split("']")[0]: b for b in proc.stdout.split("signature_def['")[1:]}
    expected = {"serving_default": ("inputs['label_map']", "DT_INT32", "outputs['image']", "DT_UINT8"),
                "generate_with_instances": ("inputs['instance_map']", "DT_INT32", "outputs['image']", "DT_UINT8"),
                "generate_onehot": ("inputs['onehot']", "DT_FLOAT", "outputs['image']", "DT_UINT8"),
                "generate_png": ("inputs['label_png_bytes']", "DT_STRING", "outputs['image_png_bytes']"),
                "generate_debug": ("outputs['image_global']", "outputs['image_local']", "outputs['weight_map']",
                                   "DT_FLOAT", "(-1, 64, 64, 2)")}
    for name, parts in expected.items():
        assert name in blocks, f"signature {name} missing from saved_model_cli output"
        for part in parts:
            assert part in blocks[name], f"{name}: {part} not in\n{blocks[name]}"
        assert "tensorflow/serving/predict" in blocks[name]
    assert "(-1, 64, 64, 3)" in blocks["serving_default"]


def test_exported_images_equal_an_independent_forward_of_the_checkpoint(exported, loaded_export, tiny_run_dir):
    """Each signature against a generator filled straight from the checkpoint file (tf.train.load_checkpoint), fed
    a NumPy one-hot + instance-edge input, its [-1, 1] output turned into uint8 in NumPy (equal up to one level on
    values at a rounding boundary: graph vs eager float order)."""
    checkpoint = tf.train.latest_checkpoint(str(tiny_run_dir / "checkpoints"))
    reference, plan = checkpoint_generator(tiny_run_dir, checkpoint)
    spec = plan.spec
    labels, instances = scene()

    def forward(instance_map):
        return reference(np_semantic(labels, instance_map, spec.onehot_nc, spec.use_instance), training=False)

    with_edges, plain = forward(instances), forward(None)
    sig = loaded_export.signatures
    assert_uint8_matches(sig["serving_default"](label_map=labels)["image"], plain["image"])
    assert_uint8_matches(sig["generate_with_instances"](label_map=labels, instance_map=instances)["image"],
                         with_edges["image"])
    onehot = np_semantic(labels, instances, spec.onehot_nc, spec.use_instance)
    assert_uint8_matches(sig["generate_onehot"](onehot=onehot)["image"], with_edges["image"])
    debug = sig["generate_debug"](label_map=labels)
    for key in ("image", "image_global", "image_local"):
        assert_uint8_matches(debug[key], plain[key], key)
    np.testing.assert_allclose(debug["weight_map"], plain["weight_map"], atol=1e-5)  # graph vs eager float order
    assert not np.array_equal(debug["image"], debug["image_global"])  # the fusion of Eq. (8) is exported
    pngs = np.array([tf.io.encode_png(x[..., None]).numpy() for x in labels.astype(np.uint8)], dtype=object)
    out = sig["generate_png"](label_png_bytes=tf.constant(pngs))["image_png_bytes"].numpy()
    decoded = np.stack([tf.io.decode_png(b).numpy() for b in out])
    np.testing.assert_array_equal(decoded, np_uint8(plain["image"]))
    single = sig["generate_png"](label_png_bytes=tf.constant(pngs[0]))["image_png_bytes"]
    assert single.shape == () and tf.io.decode_png(single).shape == (H, W, 3)


@pytest.mark.parametrize("signature, inputs, message", [
    ("serving_default", {"label_map": np.full([1, H, W], 99, np.int32)}, r"class ids must be in \[0, "),
    ("serving_default", {"label_map": np.full([1, H, W], -1, np.int32)}, r"got min, max"),
    ("serving_default", {"label_map": np.zeros([H, W], np.int32)}, r"expected int32 \[batch, 64, 64\]; got shape"),
    ("serving_default", {"label_map": np.zeros([1, 32, 64], np.int32)}, r"\[batch, 64, 64\]; got shape"),
    ("generate_onehot", {"onehot": np.zeros([1, H, W, 3], np.float32)}, r"onehot: expected float32 \[batch, 64, 64"),
    ("generate_png", {"label_png_bytes": tf.io.encode_png(np.zeros([32, 32, 1], np.uint8))},
     r"expected an 8-bit single-channel \(grayscale\) PNG of class ids, 64x64"),
])
def test_bad_inputs_are_rejected_with_what_was_expected(loaded_export, signature, inputs, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        loaded_export.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})


def test_assets_and_warmup_request(exported, tiny_run_dir):
    version_dir = exported[1]
    contract = exporter.read_contract(str(version_dir))
    run = load_run(str(tiny_run_dir))
    assert contract["label_nc"] == run.plan.spec.label_nc and len(contract["class_names"]) == contract["label_nc"]
    assert np.array_equal(np.array(contract["palette"]), run.plan.spec.palette_array())
    assert (contract["height"], contract["width"], contract["use_instance"]) == (H, W, True)
    from tensorflow_serving.apis import prediction_log_pb2

    records = list(tf.data.TFRecordDataset(str(version_dir / exporter.WARMUP_ASSET)).as_numpy_iterator())
    assert len(records) == 1
    log = prediction_log_pb2.PredictionLog.FromString(records[0])
    request = log.predict_log.request
    assert request.model_spec.signature_name == "serving_default"
    assert tf.make_ndarray(request.inputs["label_map"]).shape == (1, H, W)


def test_versions_are_never_overwritten_without_the_flag(exported, tiny_run_dir, capsys):
    export_dir = exported[0]
    code = exporter.main([f"--model_dir={tiny_run_dir}", f"--export_dir={export_dir}"])
    err = capsys.readouterr().err
    assert code == 2 and "already has version 2" in err and "--overwrite" in err
    assert exporter.choose_version(str(export_dir), None) == 3  # no step: next free integer
    assert exporter.main(["--model_dir=x", "--export_dir=y", "--batch_size=0"]) == 2
    assert "--batch_size='0': expected a positive integer or 'dynamic'" in capsys.readouterr().err


def test_interrupted_export_leaves_no_version_directory(tiny_run_dir, tmp_path, monkeypatch):
    def crash(path, *args):
        assert (tmp_path / "out" / ".tmp-7" / "saved_model.pb").exists()  # the SavedModel was being written
        raise KeyboardInterrupt("simulated interruption mid-write")

    monkeypatch.setattr(exporter, "write_warmup_requests", crash)
    with pytest.raises(KeyboardInterrupt):
        exporter.export_run(str(tiny_run_dir), str(tmp_path / "out"), version=7, batch_size=1)
    assert list((tmp_path / "out").iterdir()) == []
    assert exporter.existing_versions(str(tmp_path / "out")) == []
