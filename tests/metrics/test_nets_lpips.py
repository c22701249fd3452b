"""LPIPS v0.1 AlexNet-lin / VGG-lin against the reference `lpips` package run in PyTorch
(fixtures from tools/make_lpips_fixture.py)."""

import numpy as np
import pytest

from lggan_tf.metrics.lpips import LPIPS
from lggan_tf.metrics.nets import ConversionError, common, lpips_nets, network
from lggan_tf.metrics.nets.seeded import seeded_state_dict
from tests.metrics.nets_fixture import load_fixture, relative_error

FIXTURES = {net: load_fixture(f"lpips_{net}") for net in ("alex", "vgg")}


def reference_state(net):
    """The fixture's weights as the reference `lpips.LPIPS` state_dict holds them (net.sliceK.N.*, linL.*)."""
    arrays, meta = FIXTURES[net]
    state = seeded_state_dict(meta["layout"], int(arrays["seed"]))
    return {k: np.abs(v) if k.startswith("lin") else v for k, v in state.items()}


def torchvision_form(state):
    """The same weights as the published files hold them: torchvision `features.N.*` (+ its classifier) and heads."""
    out = {f"features.{k.split('.')[2]}.{k.split('.')[3]}" if k.startswith("net.") else k: v
           for k, v in state.items()}
    out["classifier.6.weight"] = np.zeros((1000, 4096), np.float32)
    return out


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_lpips_matches_the_reference_package(net):
    arrays, meta = FIXTURES[net]
    renamed = [(k, s) for k, s, _ in torchvision_form_layout(meta["layout"])]
    assert [(k, s) for k, s, _ in lpips_nets.layout(net)] == renamed  # same keys, shapes and order
    weights = lpips_nets.convert_state_dict(reference_state(net), net)
    model = lpips_nets.build(net)
    common.assign_weights(model, weights)
    out = model([arrays["x0"].astype(np.float32) / 127.5 - 1, arrays["x1"].astype(np.float32) / 127.5 - 1])
    assert relative_error(out["lpips"], arrays["lpips"]) <= 1e-4
    assert relative_error(np.stack([out[f"layer{i}"] for i in range(5)], 1), arrays["per_layer"]) <= 1e-4
    # the torchvision backbone + published heads form converts to exactly the same weights
    other = lpips_nets.convert_state_dict(torchvision_form(reference_state(net)), net)
    assert other.keys() == weights.keys() and all(np.array_equal(other[k], weights[k]) for k in weights)


def torchvision_form_layout(layout):
    return [(f"features.{k.split('.')[2]}.{k.split('.')[3]}" if k.startswith("net.") else k, s, d)
            for k, s, d in layout]


def test_evaluation_lpips_from_a_converted_directory(tmp_path):
    arrays, _ = FIXTURES["alex"]
    module = network("lpips_alex")
    model = module.build()
    common.assign_weights(model, module.convert_state_dict(reference_state("alex")))
    module.save_converted(model, str(tmp_path / "lpips_alex"))
    metric = LPIPS.load(str(tmp_path / "lpips_alex"))
    assert metric.calibrated and metric.name == "lpips_alex"
    assert relative_error(metric(arrays["x0"], arrays["x1"]), arrays["lpips"]) <= 1e-4
    with pytest.raises(FileNotFoundError, match="network.json"):
        LPIPS.load(str(tmp_path / "missing"))


def test_wrong_checkpoints_are_refused():
    with pytest.raises(ConversionError, match=r"not a lpips_alex checkpoint: missing keys features.3.weight.*"
                                              r"unexpected keys features.2.weight.*shape mismatches features.0"):
        lpips_nets.convert_state_dict(torchvision_form(reference_state("vgg")), "alex")
    state = reference_state("alex")
    state["scaling_layer.shift"] = np.zeros((1, 3, 1, 1), np.float32)
    with pytest.raises(ConversionError, match="scaling_layer.shift"):
        lpips_nets.convert_state_dict(state, "alex")
    state = reference_state("alex")
    state["lins.0.model.1.weight"] = state["lin0.model.1.weight"] + 1
    with pytest.raises(ConversionError, match="lins.0.model.1.weight differs from lin0.model.1.weight"):
        lpips_nets.convert_state_dict(state, "alex")


def test_cli_without_the_heads_file_or_with_a_truncated_one_exits_2_and_writes_nothing(tmp_path, capsys):
    from lggan_tf.metrics import convert
    from tests.metrics.nets_fixture import write_pth

    state = torchvision_form(reference_state("alex"))
    backbone, heads = tmp_path / "alexnet.pth", tmp_path / "alex.pth"
    write_pth(backbone, {k: v for k, v in state.items() if not k.startswith("lin")})
    write_pth(heads, {k: v for k, v in state.items() if k.startswith("lin")})
    out = tmp_path / "lpips_alex"
    assert convert.main(["lpips_alex", "--pytorch_checkpoint", str(backbone), "--out", str(out)]) == 2
    assert "missing keys lin0.model.1.weight, lin1.model.1.weight" in capsys.readouterr().err
    heads.write_bytes(heads.read_bytes()[:-200])
    assert convert.main(["lpips_alex", "--pytorch_checkpoint", f"{backbone},{heads}", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(heads) in err and err.count("\n") == 1 and not out.exists()
    heads.unlink()
    assert convert.main(["lpips_alex", "--pytorch_checkpoint", f"{backbone},{backbone}", "--out", str(out)]) == 2
    assert "is also in" in capsys.readouterr().err and not out.exists()
