"""`python -m lggan_tf.describe` reports per-sub-network counts without running the model."""

import json
import subprocess
import sys

import pytest

from lggan_tf.describe import describe


def test_describe_ade20k_matches_official_breakdown():
    # Official ADE20K LGGAN: 115,091,019 including the unused 1,392,640-parameter fc; 52 local sub-generators
    # (51 + rest) and a 51-way classifier.
    result = describe("lggan", "ade20k")
    assert result["generator_total"] == 115_091_019 - 1_392_640
    assert result["local"] == 11_483_859
    assert result["classifier"] == 3_315
    assert result["discriminator_total"] == 5_836_930


@pytest.mark.cost(11)
def test_describe_cli_prints_one_json_object_and_rejects_unknown_upsampler():
    ok = subprocess.run([sys.executable, "-m", "lggan_tf.describe", "--model", "gaugan", "--dataset", "synthetic",
                         "--ngf", "8", "--upsampler", "sau"], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout.strip().splitlines()[-1])
    assert result["model"] == "gaugan" and result["generator_total"] > 0 and result["local"] == 0
    bad = subprocess.run([sys.executable, "-m", "lggan_tf.describe", "--model", "gaugan", "--dataset", "synthetic",
                          "--upsampler", "magic"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert "magic" in bad.stderr and "sau" in bad.stderr


def test_dontcare_is_not_a_local_class():
    """One sub-generator per semantic class (§3.3): COCO-Stuff's don't-care label (channel 182) gets none and is not
    classified; ADE20K keeps it in its merged 'rest' mask as the official ADE20K code."""
    from datasets import get_spec
    from lggan_tf.describe import model_facts

    channels = {name: model_facts(get_spec(name))[0]["label_channels"]
                for name in ("cityscapes", "ade20k", "coco_stuff", "deepfashion", "celebamask_hq", "facades")}
    assert channels == {"cityscapes": 35, "ade20k": 151, "coco_stuff": 182, "deepfashion": 20, "celebamask_hq": 19,
                        "facades": 13}
    result = describe("lggan", "coco_stuff", ngf=4, ndf=4, spade_hidden=8)
    assert result["input_shape"] == [256, 256, 184]  # the generator still reads the don't-care and edge channels
    assert result["classifier"] == 4 * 182 + 182  # Dense(ngf -> 182): 182 classes, not 183
