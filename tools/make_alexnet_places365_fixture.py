"""Reference fixture for AlexNet-Places365 (tests/metrics/test_nets_alexnet_places365.py). Not run in CI.

    /work/torchvenv/bin/python tools/make_alexnet_places365_fixture.py

The Places365 AlexNet is torchvision's `models.alexnet(num_classes=365)` (CSAILVision/places365
run_placesCNN_basic.py / train_placesCNN.py build it so); it is filled with seeded_state_dict(layout, SEED) and run
on two fixed 224x224 uint8 images normalised as the Places365 scripts do (ToTensor, Normalize(ImageNet mean/std)).
Stores the seed, the images, the logits, fc7 and pool5's per-channel means.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402

SEED = 365
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--places365", default="", help="CSAILVision/places365 checkout or mirror (for its commit)")
    parser.add_argument("--commit", default="", help="its commit, when --places365 is not given")
    args = parser.parse_args()
    import torch
    import torchvision

    model = torchvision.models.alexnet(num_classes=365).eval()
    layout = fixture_io.load_seeded(model, SEED)
    images = fixture_io.smooth_images(np.random.default_rng(SEED), 2, 224)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    x = (x - torch.tensor(MEAN)[None, :, None, None]) / torch.tensor(STD)[None, :, None, None]
    with torch.no_grad():
        pool5 = model.avgpool(model.features(x))
        fc7 = model.classifier[:6](torch.flatten(pool5, 1))
        logits = model(x)
    arrays = {"seed": np.int64(SEED), "images": images, "logits": logits.numpy(), "fc7": fc7.numpy(),
              "pool5_channel_mean": pool5.mean(dim=(2, 3)).numpy()}
    print(f"logits std {logits.std():.4f}; top-1 {logits.argmax(1).tolist()}")
    fixture_io.write_fixture("alexnet_places365", arrays, {
        "network": "alexnet_places365", "reference_repo": "https://github.com/CSAILVision/places365",
        "reference_commit": args.commit or (fixture_io.git_commit(args.places365) if args.places365 else "unknown"),
        "reference_files": ["run_placesCNN_basic.py (models.alexnet(num_classes=365), ImageNet Normalize)",
                            "torchvision/models/alexnet.py"],
        "seed": SEED, "layout": layout})


if __name__ == "__main__":
    main()
