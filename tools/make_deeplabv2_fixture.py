"""Reference fixture for lggan_tf.metrics.nets.deeplabv2 (DeepLab-v2 ResNet-101 MSC, COCO-Stuff 182), run by hand:

    /work/torchvenv/bin/python tools/make_deeplabv2_fixture.py [--mirror /work/.mirror/kazuto1011+deeplab-pytorch/repo]

Builds libs.models.DeepLabV2_ResNet101_MSC(182) from kazuto1011/deeplab-pytorch at COMMIT, fills it with seeded
weights in its state_dict order (BN in eval mode), runs two 66x98 RGB images (odd sizes: the ceil-mode pool and the
0.75x F.interpolate(scale_factor) rule, floor(49.5) = 49 rows with source step 1/0.75, are both exercised; the
protocol's 256x256 is a larger input) preprocessed as libs/datasets/base.py (BGR minus the mean), and stores the
images (uint8), the MSC logits, each scale's base logits and the first 4 channels of layer1..layer5 at scale 1.
"""

import argparse

import numpy as np
import torch

import fixture_io
import seg_fixture_common as common

COMMIT = "4219467fa5de07985f834f1bd8c04c186dc8f6d8"
SEED = 2
MEAN_BGR = np.array([104.008, 116.669, 122.675], np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirror", default="/work/.mirror/kazuto1011+deeplab-pytorch/repo")
    args = ap.parse_args()
    common.export_reference(args.mirror, COMMIT, [f"libs/models/{m}.py" for m in (
        "__init__", "resnet", "deeplabv1", "deeplabv2", "deeplabv3", "deeplabv3plus", "msc")])
    from libs.models import DeepLabV2_ResNet101_MSC  # noqa: E402  (the reference, exported above)

    model = DeepLabV2_ResNet101_MSC(n_classes=182)
    layout = fixture_io.load_seeded(model, SEED)
    model.eval()
    rng = np.random.default_rng(SEED + 1)
    images = rng.integers(0, 256, (2, 66, 98, 3), dtype=np.uint8)
    bgr = images[..., ::-1].astype(np.float32) - MEAN_BGR
    x = torch.from_numpy(np.ascontiguousarray(bgr.transpose(0, 3, 1, 2)))
    arrays = {"image": images}
    with torch.no_grad():
        arrays["logits"] = common.nhwc(model(x))
        h = x
        for name in ("layer1", "layer2", "layer3", "layer4", "layer5"):
            h = getattr(model.base, name)(h)
            arrays[name] = common.nhwc(h)[..., :4]
        arrays["base_scale1"] = common.nhwc(model.base(x))
        for i, p in enumerate(model.scales):
            scaled = torch.nn.functional.interpolate(x, scale_factor=p, mode="bilinear", align_corners=False)
            arrays[f"base_scale{i + 2}"] = common.nhwc(model.base(scaled))
    fixture_io.write_fixture("deeplabv2_coco", arrays, {
        "network": "deeplabv2_coco", "repo": "kazuto1011/deeplab-pytorch", "commit": COMMIT, "seed": SEED,
        "layout": layout, "scales": list(model.scales),
        "reference": "libs.models.DeepLabV2_ResNet101_MSC(182), eval mode; input BGR minus "
                     "(104.008, 116.669, 122.675) as libs/datasets/base.py",
        "input": "RGB uint8 NHWC; the model flips to BGR and subtracts the mean", "protocol_input_size": [256, 256]})


if __name__ == "__main__":
    main()
