"""PyTorch side of bench/metrics.py (run by it in the torch venv; never in CI): the reference implementations of
the evaluation networks, timed the same way, one JSON line per network on stdout.

    /work/torchvenv/bin/python tools/bench_metrics_torch.py --networks inception_fid,lpips_alex \\
        --pytorch_fid /tmp/pytorch-fid --lpips /tmp/PerceptualSimilarity --batch 8 --reps 5
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import statistics
import sys
import time
import types


def build(name, args):
    """(callable on a uint8 NHWC numpy batch, input HxW) of the reference network `name` (random weights)."""
    import torch
    import torchvision

    def nchw(images, scale, shift):
        return torch.from_numpy(images).permute(0, 3, 1, 2).float() * scale + shift

    if name == "inception_fid":
        sys.path.insert(0, os.path.join(args.pytorch_fid, "src"))
        from pytorch_fid import inception

        made = {}
        make = inception._inception_v3
        inception._inception_v3 = lambda *a, **k: made.setdefault("model", make(*a, **k))
        # fid_inception_v3 loads its download after the FID patches: hand it the model's own (random) weights
        inception.load_state_dict_from_url = lambda *a, **k: made["model"].state_dict()
        model = inception.InceptionV3([3]).eval()
        return (lambda x: model(nchw(x, 1 / 255.0, 0.0))[0]), (args.inception_input, args.inception_input)
    if name == "alexnet_places365":
        model = torchvision.models.alexnet(num_classes=365).eval()
        return (lambda x: model(nchw(x, 1 / 255.0, 0.0))), (224, 224)
    try:
        import tqdm  # noqa: F401
    except ImportError:
        stub = types.ModuleType("tqdm")
        stub.__spec__ = importlib.machinery.ModuleSpec("tqdm", None)
        stub.tqdm = lambda x, *a, **k: x
        sys.modules["tqdm"] = stub
    sys.path.insert(0, args.lpips)
    import lpips

    net = name.split("_", 1)[1]
    model = lpips.LPIPS(net=net, pnet_rand=True, verbose=False).eval()
    size = args.lpips_input
    return (lambda x: model(nchw(x[: len(x) // 2], 1 / 127.5, -1.0), nchw(x[len(x) // 2:], 1 / 127.5, -1.0))), (
        size, size)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="inception_fid,alexnet_places365,lpips_alex,lpips_vgg")
    parser.add_argument("--pytorch_fid", default="", help="pytorch-fid checkout (src/pytorch_fid)")
    parser.add_argument("--lpips", default="", help="PerceptualSimilarity checkout (lpips/)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--inception_input", type=int, default=256)
    parser.add_argument("--lpips_input", type=int, default=256)
    args = parser.parse_args()
    import numpy as np
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    for name in args.networks.split(","):
        if (name == "inception_fid" and not args.pytorch_fid) or (name.startswith("lpips") and not args.lpips):
            continue
        fn, (h, w) = build(name, args)
        pairs = name.startswith("lpips")
        images = np.random.default_rng(0).integers(0, 256, (args.batch * (2 if pairs else 1), h, w, 3), np.uint8)
        times = []
        with torch.inference_mode():
            for i in range(2 + args.reps):
                start = time.perf_counter()
                fn(images)
                if i >= 2:
                    times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(json.dumps({"network": name, "framework": "pytorch", "torch": torch.__version__,
                          "threads": torch.get_num_threads(), "input": [h, w], "batch": args.batch,
                          "median_s": round(median, 4), "images_per_s": round(args.batch / median, 2),
                          "calls_s": [round(t, 4) for t in times]}), flush=True)


if __name__ == "__main__":
    main()
