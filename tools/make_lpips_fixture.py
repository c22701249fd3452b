"""Reference fixtures for LPIPS v0.1 AlexNet-lin and VGG-lin (tests/metrics/test_nets_lpips.py). Not run in CI.

    git clone https://github.com/richzhang/PerceptualSimilarity /tmp/PerceptualSimilarity
    /work/torchvenv/bin/python tools/make_lpips_fixture.py --reference /tmp/PerceptualSimilarity

Runs the reference package's own `lpips.LPIPS(net=..., version='0.1')` (random trunk instead of the torchvision
download, then every weight but the ScalingLayer constants replaced by seeded_state_dict(layout, SEED), with the
linear heads' absolute values, since published heads are non-negative) on three
fixed pairs of 64x64 uint8 images mapped to [-1, 1]; stores the seed, the images, the distances and the per-layer
terms (retPerLayer) per network.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402

SEED = {"alex": 161, "vgg": 162}
PAIRS = 3
SIZE = 64


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="PerceptualSimilarity checkout (containing lpips/)")
    parser.add_argument("--commit", default="", help="its commit, when --reference is not a git checkout")
    args = parser.parse_args()
    try:
        import tqdm  # noqa: F401  (imported by lpips/trainer.py; not used by the metric)
    except ImportError:
        stub = types.ModuleType("tqdm")
        stub.__spec__ = importlib.machinery.ModuleSpec("tqdm", None)
        stub.tqdm = lambda x, *a, **k: x
        sys.modules["tqdm"] = stub
    sys.path.insert(0, args.reference)
    import torch
    import lpips

    for net in ("alex", "vgg"):
        heads = os.path.join(args.reference, "lpips", "weights", "v0.1", f"{net}.pth")
        model = lpips.LPIPS(pretrained=True, net=net, version="0.1", pnet_rand=True, model_path=heads,
                            verbose=False).eval()
        # lins.N is the ModuleList alias of linN (same tensors): seed linN only, as the published heads files
        layout = [e for e in fixture_io.torch_layout(model) if not e[0].startswith(("scaling_layer.", "lins."))]
        state = fixture_io.seeded_state_dict(layout, SEED[net])
        for key in [k for k in state if k.startswith("lin")]:
            state[key] = np.abs(state[key])  # heads are non-negative, as the published ones (clamped in training)
        missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
        assert not unexpected and {k for k in missing if not k.startswith("lins.")} == {
            "scaling_layer.scale", "scaling_layer.shift"}, (missing, unexpected)
        rng = np.random.default_rng(SEED[net])
        x0 = fixture_io.smooth_images(rng, PAIRS, SIZE)
        x1 = np.clip(x0.astype(np.int64) + rng.integers(-60, 61, x0.shape), 0, 255).astype(np.uint8)
        x1[-1] = fixture_io.smooth_images(rng, 1, SIZE)[0]  # one unrelated pair
        to_torch = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 127.5 - 1.0  # noqa: E731
        with torch.no_grad():
            dist, per_layer = model(to_torch(x0), to_torch(x1), retPerLayer=True)
        arrays = {"seed": np.int64(SEED[net]), "x0": x0, "x1": x1, "lpips": dist.reshape(-1).numpy(),
                  "per_layer": np.stack([r.reshape(-1).numpy() for r in per_layer], axis=1)}
        print(f"lpips_{net}: {arrays['lpips']}")
        fixture_io.write_fixture(f"lpips_{net}", arrays, {
            "network": f"lpips_{net}", "reference_repo": "https://github.com/richzhang/PerceptualSimilarity",
            "reference_commit": args.commit or fixture_io.git_commit(args.reference),
            "reference_files": ["lpips/lpips.py", "lpips/pretrained_networks.py", "lpips/__init__.py"],
            "seed": SEED[net], "layout": layout, "input": "uint8 / 127.5 - 1, NCHW"})


if __name__ == "__main__":
    main()
