"""The torch-free `.pth` reader: official fixtures, hand-built zip/legacy files, hostile and broken files."""

import collections
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

from lggan_tf.convert import pth_reader
from lggan_tf.convert.pth_reader import CheckpointError, load_state_dict
from tests.conftest import REPO
from tests.convert.conftest import parity_file
from tests.convert import torch_format as tf_fmt
from tests.convert.torch_format import Call, Tensor

PTH_FILES = ["lggan_sis_cityscapes_ngf4.pth", "lggan_sis_cityscapes_ngf4_legacy.pth", "lggan_sis_ade20k_ngf2.pth",
             "spade_gaugan_cityscapes_ngf4.pth", "spade_multiscale_d_ndf16.pth", "lggan_crossview_ngf8.pth",
             "lggan_crossview_d_ndf8.pth"]
FORMATS = ["zip", "legacy"]


@pytest.mark.parametrize("name", PTH_FILES)
def test_official_fixture_equals_npz_state(name):
    """Every entry equals the official code's own `state/<key>` array: same keys, order, shape, dtype, bits."""
    state = load_state_dict(parity_file(name))
    with np.load(parity_file(name.replace("_legacy", "").replace(".pth", ".npz"))) as npz:
        ref = {k[len("state/"):]: npz[k] for k in npz.files if k.startswith("state/")}
    assert list(state) == list(ref)
    for key, value in state.items():
        assert value.dtype == ref[key].dtype and value.shape == ref[key].shape, key
        assert np.array_equal(value, ref[key]), key
        assert value.flags.c_contiguous and value.flags.writeable


DATA = pathlib.Path(__file__).parent / "data"  # made by tools/make_pth_reader_fixtures.py with torch 2.14


@pytest.mark.parametrize("pth,npz", [("torch_odd_features.pth", "torch_odd_features.npz"),
                                     ("torch_odd_features_legacy.pth", "torch_odd_features.npz"),
                                     ("torch_wrapped_dataparallel.pth", "torch_wrapped_dataparallel.npz")])
def test_real_torch_files_with_odd_storage_features(pth, npz):
    """bf16/half/uint16 (`_rebuild_tensor_v3` on an UntypedStorage)/complex/bool, Parameters, shared storages,
    transposed, sliced, expanded and channels_last views; `module.` keys inside {'epoch', 'state_dict',
    'optimizer'}. Expected values are what torch itself gave (bf16 via .float())."""
    state = load_state_dict(DATA / pth)
    with np.load(DATA / npz) as ref:
        _assert_equal(state, {k: ref[k] for k in ref.files})


def _sample(prefix=""):
    """A state_dict over two storages with every view kind, and its expected arrays computed with NumPy."""
    floats = np.arange(24, dtype="<f4") * 0.5 - 3.0
    longs = np.array([7, -2, 2**40], dtype="<i8")
    state = collections.OrderedDict([
        (prefix + "conv.weight", Tensor("0", "FloatStorage", 0, (2, 3, 2, 2), (12, 4, 2, 1))),
        (prefix + "conv.weight_t", Tensor("0", "FloatStorage", 0, (3, 2), (1, 3))),    # transposed, shared storage
        (prefix + "offset_view", Tensor("0", "FloatStorage", 6, (4,), (2,))),           # offset + stride 2
        (prefix + "broadcast", Tensor("0", "FloatStorage", 1, (2, 3), (0, 1))),         # expand(): stride 0
        (prefix + "scalar", Tensor("0", "FloatStorage", 5, (), ())),                    # 0-d tensor
        (prefix + "empty", Tensor("0", "FloatStorage", 0, (0, 4), (4, 1))),
        (prefix + "bn.num_batches_tracked", Tensor("1", "LongStorage", 2, (), ())),
        (prefix + "ids", Tensor("1", "LongStorage", 0, (3,), (1,))),
    ])
    expected = {
        "conv.weight": floats[:24].reshape(2, 3, 2, 2), "conv.weight_t": floats[:6].reshape(2, 3).T,
        "offset_view": floats[6:14:2], "broadcast": np.broadcast_to(floats[1:4], (2, 3)),
        "scalar": np.array(floats[5]), "empty": np.zeros((0, 4), "f4"),
        "bn.num_batches_tracked": np.array(2**40, "i8"), "ids": longs,
    }
    return state, {"0": floats, "1": longs}, expected


def _assert_equal(state, expected):
    assert list(state) == list(expected)
    for key, value in expected.items():
        assert state[key].dtype == value.dtype and state[key].shape == value.shape, key
        np.testing.assert_array_equal(state[key], value, err_msg=key)


@pytest.mark.parametrize("fmt", FORMATS)
def test_handmade_views_offsets_strides_and_dtypes(tmp_path, fmt):
    state, storages, expected = _sample()
    tf_fmt.write(tmp_path / "x.pth", state, storages, fmt)
    _assert_equal(load_state_dict(tmp_path / "x.pth"), expected)


@pytest.mark.parametrize("fmt", FORMATS)
def test_module_prefix_and_wrapped_state_dict(tmp_path, fmt):
    state, storages, expected = _sample(prefix="module.")
    wrapper = {"epoch": 12, "state_dict": state, "optimizer": {"lr": 0.0002, "betas": (0.0, 0.999)}}
    tf_fmt.write(tmp_path / "x.pth.tar", wrapper, storages, fmt)
    _assert_equal(load_state_dict(tmp_path / "x.pth.tar"), expected)
    _assert_equal(load_state_dict(tmp_path / "x.pth.tar", key="state_dict"), expected)


def test_key_selection_and_ambiguity(tmp_path):
    state, storages, expected = _sample()
    tf_fmt.write_zip(tmp_path / "gd.pth", {"netG": state, "netD": state, "epoch": 3}, storages)
    with pytest.raises(CheckpointError, match=r"several dicts of tensors .*'netG', 'netD'.*key="):
        load_state_dict(tmp_path / "gd.pth")
    _assert_equal(load_state_dict(tmp_path / "gd.pth", key="netD"), expected)
    with pytest.raises(CheckpointError, match=r"no top-level key 'model'; the top-level keys are 'netG', 'netD'"):
        load_state_dict(tmp_path / "gd.pth", key="model")
    with pytest.raises(CheckpointError, match=r"\['epoch'\] is a int that is not a dict of tensors"):
        load_state_dict(tmp_path / "gd.pth", key="epoch")


def test_half_bfloat16_bool_and_big_endian(tmp_path):
    values = np.array([1.0, -2.5, 0.15625, 3.0 * 2.0**120], np.float32)
    bf16_bits = (values.view(np.uint32) >> 16).astype("<u2")  # exact: these values have 8 significant bits
    storages = {"h": values[:3].astype("<f2"), "b": bf16_bits, "m": np.array([True, False, True]),
                "d": values.astype("<f8")}
    state = {"h": Tensor("h", "HalfStorage", 0, (3,), (1,)), "b": Tensor("b", "BFloat16Storage", 0, (2, 2), (1, 2)),
             "m": Tensor("m", "BoolStorage", 1, (2,), (1,)), "d": Tensor("d", "DoubleStorage", 0, (4,), (1,))}
    expected = {"h": values[:3].astype(np.float16), "b": values.reshape(2, 2).T, "m": np.array([False, True]),
                "d": values.astype(np.float64)}
    for order in ("little", "big"):
        tf_fmt.write_zip(tmp_path / f"{order}.pth", state, storages, byteorder=order)
        _assert_equal(load_state_dict(tmp_path / f"{order}.pth"), expected)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("module,name", [("os", "system"), ("builtins", "eval"), ("posix", "system")])
def test_hostile_global_is_refused_and_not_run(tmp_path, fmt, module, name):
    sentinel = tmp_path / "pwned"
    payload = f"touch {sentinel}" if name == "system" else f"open({str(sentinel)!r}, 'w').close()"
    state, storages, _ = _sample()
    state["evil"] = Call(module, name, payload)
    tf_fmt.write(tmp_path / "evil.pth", state, storages, fmt)
    with pytest.raises(CheckpointError, match=rf"evil.pth: refusing pickle global '{module}.{name}'.*state_dict"):
        load_state_dict(tmp_path / "evil.pth")
    assert not sentinel.exists()


def test_pickle_cannot_modify_the_shared_stand_ins(tmp_path):
    """BUILD (setstate) on `torch.FloatStorage` would change how every later file is decoded: refused."""
    build = b"ctorch\nFloatStorage\n}" + tf_fmt.dumps("numpy_dtype")[2:-1] + b"K\x01sb"
    tf_fmt.write_zip(tmp_path / "poison.pth", build, {})
    with pytest.raises(CheckpointError, match=r"poison.pth: the pickle tries to modify torch.FloatStorage"):
        load_state_dict(tmp_path / "poison.pth")
    state, storages, expected = _sample()
    tf_fmt.write_zip(tmp_path / "after.pth", state, storages)
    _assert_equal(load_state_dict(tmp_path / "after.pth"), expected)


def test_hostile_payload_is_live_under_plain_pickle(tmp_path):
    """Control for the test above: the same payload does run under the standard unpickler."""
    sentinel = tmp_path / "ran"
    pickle.loads(tf_fmt.dumps(Call("builtins", "eval", f"open({str(sentinel)!r}, 'w').close()")))
    assert sentinel.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_pickled_module_and_non_dict_are_refused(tmp_path, fmt):
    model = Call("models.networks.generator", "LGGANGenerator")
    tf_fmt.write(tmp_path / "model.pth", model, {}, fmt)
    with pytest.raises(CheckpointError, match=r"refusing pickle global 'models.networks.generator.LGGANGenerator'"
                                              r".*model.state_dict\(\)"):
        load_state_dict(tmp_path / "model.pth")
    state, storages, _ = _sample()
    tf_fmt.write(tmp_path / "list.pth", [state["ids"]], storages, fmt)
    with pytest.raises(CheckpointError, match=r"list.pth: holds a list, not a dict of tensors.*state_dict\(\)"):
        load_state_dict(tmp_path / "list.pth")
    tf_fmt.write(tmp_path / "meta.pth", {"epoch": 3, "lr": 0.1}, {}, fmt)
    with pytest.raises(CheckpointError, match=r"no dict of tensors .*'epoch', 'lr'"):
        load_state_dict(tmp_path / "meta.pth")


@pytest.mark.parametrize("fmt", FORMATS)
def test_storage_shorter_than_the_view(tmp_path, fmt):
    storages = {"0": np.arange(10, dtype="<f4")}
    tf_fmt.write(tmp_path / "short.pth", {"w": Tensor("0", "FloatStorage", 2, (3, 3), (3, 1))}, storages, fmt)
    with pytest.raises(CheckpointError, match=r"short.pth: tensor 'w' .* needs 11 storage elements but its "
                                              r"storage has 10"):
        load_state_dict(tmp_path / "short.pth")


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_handmade_file(tmp_path, fmt):
    state, storages, _ = _sample()
    tf_fmt.write(tmp_path / "x.pth", state, storages, fmt)
    data = (tmp_path / "x.pth").read_bytes()
    for cut in (len(data) // 2, len(data) - 5, 40):
        (tmp_path / "cut.pth").write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=r"cut.pth: .*(truncated|corrupt)"):
            load_state_dict(tmp_path / "cut.pth")


@pytest.mark.parametrize("name", ["lggan_sis_cityscapes_ngf4.pth", "lggan_sis_cityscapes_ngf4_legacy.pth"])
def test_truncated_official_file(tmp_path, name):
    data = parity_file(name).read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=rf"{name}: .*(truncated|corrupt)"):
        load_state_dict(tmp_path / name)


def test_zip_without_data_pkl_and_non_checkpoints(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("weights/data/0", b"\0" * 16)
    with pytest.raises(CheckpointError, match=r"other.zip: zip archive without data.pkl.*'weights/data/0'"):
        load_state_dict(tmp_path / "other.zip")
    (tmp_path / "text.pth").write_text("hello, not a checkpoint\n")
    with pytest.raises(CheckpointError, match=r"text.pth: not a PyTorch checkpoint"):
        load_state_dict(tmp_path / "text.pth")
    with pytest.raises(CheckpointError, match=r"missing.pth: does not exist"):
        load_state_dict(tmp_path / "missing.pth")
    with pytest.raises(CheckpointError, match=r": is not a file"):
        load_state_dict(tmp_path)


def test_summary_cli(tmp_path, capsys):
    state, storages, _ = _sample(prefix="module.")
    tf_fmt.write_zip(tmp_path / "x.pth", {"model": state}, storages)
    assert pth_reader.main([str(tmp_path / "x.pth")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "conv.weight\t[2, 3, 2, 2]\tfloat32"
    assert out[-1] == "8 entries, 45 elements (41 floating point)"
    assert pth_reader.main([str(tmp_path / "nothing.pth")]) == 2
    assert "nothing.pth: does not exist" in capsys.readouterr().err


def test_importable_without_tensorflow_or_torch():
    code = ("import sys; import lggan_tf.convert.pth_reader; "
            "bad = [m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules]; assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
