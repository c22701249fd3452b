"""Reference fixture for lggan_tf.metrics.nets.drn (DRN-D-105 DRNSeg), run by hand:

    /work/torchvenv/bin/python tools/make_drn_fixture.py [--mirror /work/.mirror/fyu+drn/repo]

Builds segment.py's DRNSeg('drn_d_105', 19) from fyu/drn at COMMIT, fills it with seeded weights in its state_dict
order (BN in eval mode; `up` gets seeded weights too, so the transposed conv is checked with a non-symmetric
kernel), runs one 64x128 image (stride-8 features 8x16, so the dilation-2/4 stages see real neighbours; the
protocol's 256x512 is only a larger input) and stores the input, the `up` logits, the `seg` map and the first 4
channels of each base stage.
"""

import argparse
import json
import os

import math

import numpy as np
import torch
from torch import nn

import fixture_io
import seg_fixture_common as common

COMMIT = "d75db2ee7070426db7a9264ee61cf489f8cf178c"
SEED = 105


def fill_up_weights(up):
    """segment.py fill_up_weights, verbatim (segment.py itself no longer parses: `async=True`)."""
    w = up.weight.data
    f = math.ceil(w.size(2) / 2)
    c = (2 * f - 1 - f % 2) / (2. * f)
    for i in range(w.size(2)):
        for j in range(w.size(3)):
            w[0, 0, i, j] = \
                (1 - math.fabs(i / f - c)) * (1 - math.fabs(j / f - c))
    for c in range(1, w.size(0)):
        w[c, 0, :, :] = w[0, 0, :, :]


class DRNSeg(nn.Module):
    """segment.py DRNSeg at COMMIT (pretrained_model=None, pretrained=False, use_torch_up=False), verbatim."""

    def __init__(self, drn, model_name, classes):
        super(DRNSeg, self).__init__()
        model = drn.__dict__.get(model_name)(pretrained=False, num_classes=1000)
        self.base = nn.Sequential(*list(model.children())[:-2])
        self.seg = nn.Conv2d(model.out_dim, classes, kernel_size=1, bias=True)
        self.softmax = nn.LogSoftmax()
        up = nn.ConvTranspose2d(classes, classes, 16, stride=8, padding=4, output_padding=0, groups=classes,
                                bias=False)
        fill_up_weights(up)
        up.weight.requires_grad = False
        self.up = up

    def forward(self, x):
        x = self.base(x)
        x = self.seg(x)
        y = self.up(x)
        return self.softmax(y), x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirror", default="/work/.mirror/fyu+drn/repo")
    args = ap.parse_args()
    ref = common.export_reference(args.mirror, COMMIT, ["drn.py", "datasets/cityscapes/info.json"])
    import drn  # noqa: E402  (the reference file, exported above)

    torch.manual_seed(0)
    model = DRNSeg(drn, "drn_d_105", 19)
    layout = fixture_io.load_seeded(model, SEED)
    model.eval()
    rng = np.random.default_rng(SEED + 1)
    image = rng.uniform(0.0, 1.0, (1, 64, 128, 3)).astype(np.float32)
    with open(os.path.join(ref, "datasets", "cityscapes", "info.json"), encoding="utf-8") as f:
        info = json.load(f)
    mean, std = np.array(info["mean"], np.float32), np.array(info["std"], np.float32)
    x = torch.from_numpy(((image - mean) / std).astype(np.float32).transpose(0, 3, 1, 2))
    stages = {}
    with torch.no_grad():
        h = x
        for i, stage in enumerate(model.base):
            h = stage(h)
            stages[f"base.{i}"] = common.nhwc(h)[..., :4]
        seg = model.seg(h)
        up = model.up(seg)
        logsoftmax, seg_out = model(x)
    assert torch.equal(seg_out, seg) and torch.equal(logsoftmax.argmax(1), up.argmax(1))
    arrays = {"image": image, "logits": common.nhwc(up), "seg": common.nhwc(seg), **stages}
    fixture_io.write_fixture("drn_d_105", arrays, {
        "network": "drn_d_105", "repo": "fyu/drn", "commit": COMMIT, "seed": SEED, "layout": layout,
        "reference": "segment.py DRNSeg('drn_d_105', 19); input normalised with datasets/cityscapes/info.json",
        "input": "RGB in [0, 1], NHWC; the model normalises", "protocol_input_size": [256, 512]})


if __name__ == "__main__":
    main()
