"""`python -m lggan_tf.describe` reports per-sub-network counts without running the model."""

import json
import subprocess
import sys

from lggan_tf.describe import describe


def test_describe_ade20k_matches_official_breakdown():
    # Official ADE20K LGGAN: 115,091,019 including the unused 1,392,640-parameter fc; 52 local sub-generators
    # (51 + rest) and a 51-way classifier.
    result = describe("lggan", "ade20k")
    assert result["generator_total"] == 115_091_019 - 1_392_640
    assert result["local"] == 11_483_859
    assert result["classifier"] == 3_315
    assert result["discriminator_total"] == 5_836_930


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
