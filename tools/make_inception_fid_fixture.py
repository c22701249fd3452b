"""Reference fixture for the FID Inception (tests/metrics/test_nets_inception_fid.py). Not run in CI.

    git clone https://github.com/mseitzer/pytorch-fid /tmp/pytorch-fid
    /work/torchvenv/bin/python tools/make_inception_fid_fixture.py --reference /tmp/pytorch-fid

Runs pytorch-fid's own code (src/pytorch_fid/inception.py: InceptionV3 over fid_inception_v3, with its weight
download replaced by seeded_state_dict(layout, SEED)) on two fixed sets of 64x64 uint8 images, through its input
path (x / 255, F.interpolate to 299, 2x - 1), and pytorch-fid's calculate_frechet_distance (scipy sqrtm) on the
2048-d features. Stores the seed, the images, the features, per-channel means of blocks 0-2 and the FID.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402

SEED = 16
N_PER_SET = 4
SIZE = 64


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="pytorch-fid checkout (containing src/pytorch_fid)")
    parser.add_argument("--commit", default="", help="its commit, when --reference is not a git checkout")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(args.reference, "src"))
    import torch
    from pytorch_fid import fid_score, inception

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    captured = {}
    make_torchvision_inception = inception._inception_v3

    def capture(*a, **kw):
        captured["model"] = make_torchvision_inception(*a, **kw)
        return captured["model"]

    def seeded_download(url, progress=True):  # called by fid_inception_v3 after the FID patches are in place
        captured["url"] = url
        captured["layout"] = fixture_io.torch_layout(captured["model"])
        state = fixture_io.seeded_state_dict(captured["layout"], SEED)
        return {k: torch.from_numpy(v) for k, v in state.items()}

    inception._inception_v3 = capture
    inception.load_state_dict_from_url = seeded_download
    model = inception.InceptionV3(output_blocks=[0, 1, 2, 3]).eval()

    rng = np.random.default_rng(SEED)
    images_a = fixture_io.smooth_images(rng, N_PER_SET, SIZE)
    images_b = fixture_io.smooth_images(rng, N_PER_SET, SIZE, brightness=40.0)
    images = np.concatenate([images_a, images_b])
    with torch.no_grad():
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0   # what ToTensor() gives
        blocks = model(x)
    feats = blocks[3].squeeze(3).squeeze(2).numpy().astype(np.float64)
    stats = [(f.mean(axis=0), np.cov(f, rowvar=False)) for f in (feats[:N_PER_SET], feats[N_PER_SET:])]
    fid = float(fid_score.calculate_frechet_distance(stats[0][0], stats[0][1], stats[1][0], stats[1][1]))
    arrays = {"seed": np.int64(SEED), "images": images, "pool3": feats.astype(np.float32), "fid": np.float64(fid)}
    for i, name in enumerate(("block0", "block1", "block2")):
        arrays[f"{name}_channel_mean"] = blocks[i].mean(dim=(2, 3)).numpy()
        arrays[f"{name}_shape"] = np.array(blocks[i].shape)
    print(f"fid {fid:.6f}; pool3 mean {feats.mean():.4f} std {feats.std():.4f}; layout {len(captured['layout'])} keys")
    fixture_io.write_fixture("inception_fid", arrays, {
        "network": "inception_fid", "reference_repo": "https://github.com/mseitzer/pytorch-fid",
        "reference_commit": args.commit or fixture_io.git_commit(args.reference),
        "reference_files": ["src/pytorch_fid/inception.py", "src/pytorch_fid/fid_score.py"],
        "weights_url_replaced": captured["url"], "seed": SEED, "n_per_set": N_PER_SET,
        "layout": captured["layout"]})


if __name__ == "__main__":
    main()
