"""PyTorch side of bench/metrics_segmenters.py (run by it with the torch venv, cwd tools/): the reference
segmenters, built from the same reference code and commits as the fixture scripts (default init, eval mode,
no_grad), timed at the protocol sizes; one JSON line per row."""

import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch

import make_deeplabv2_fixture
import make_drn_fixture
import make_upernet_fixture
import seg_fixture_common as common


def drn():
    common.export_reference("/work/.mirror/fyu+drn/repo", make_drn_fixture.COMMIT, ["drn.py"])
    import drn as drn_module

    model = make_drn_fixture.DRNSeg(drn_module, "drn_d_105", 19).eval()
    return lambda x: model(x)[0], (256, 512)


def deeplabv2():
    common.export_reference("/work/.mirror/kazuto1011+deeplab-pytorch/repo", make_deeplabv2_fixture.COMMIT,
                            [f"libs/models/{m}.py" for m in ("__init__", "resnet", "deeplabv1", "deeplabv2",
                                                             "deeplabv3", "deeplabv3plus", "msc")])
    from libs.models import DeepLabV2_ResNet101_MSC

    model = DeepLabV2_ResNet101_MSC(n_classes=182).eval()
    return model, (256, 256)


def upernet():
    """eval.py's multi-scale loop: per short side, resize (the F.interpolate stand-in for ValDataset's PIL resize,
    which runs in the data loader), SegmentationModule(segSize) softmax, average."""
    common.export_reference("/work/.mirror/CSAILVision+semantic-segmentation-pytorch/repo",
                            make_upernet_fixture.COMMIT, make_upernet_fixture.FILES)
    from mit_semseg.models import models, resnet

    module = models.SegmentationModule(models.Resnet(resnet.resnet101(pretrained=False)),
                                       models.UPerNet(150, 2048, use_softmax=True, fpn_dim=512), crit=None).eval()

    def run(x):
        h, w = x.shape[2:]
        scores = 0
        for short in (300, 375, 450, 525, 600):
            r = min(short / min(h, w), 1000 / max(h, w))
            th, tw = (((int(s * r) - 1) // 32 + 1) * 32 for s in (h, w))
            img = torch.nn.functional.interpolate(x, size=(th, tw), mode="bilinear", align_corners=False)
            scores = scores + module({"img_data": img}, segSize=(h, w)) / 5
        return scores

    return run, (256, 256)


BUILDERS = {"drn_d_105": drn, "deeplabv2_coco": deeplabv2, "upernet_101": upernet}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default=",".join(BUILDERS))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    for name in args.rows.split(","):
        fn, (h, w) = BUILDERS[name]()
        x = torch.from_numpy(np.random.default_rng(0).normal(0, 1, (args.batch, 3, h, w)).astype(np.float32))
        with torch.no_grad():
            fn(x)
            times = []
            for _ in range(args.reps):
                start = time.perf_counter()
                fn(x)
                times.append(time.perf_counter() - start)
        med = statistics.median(times)
        print(json.dumps({"row": name, "images_per_s": round(args.batch / med, 4), "median_s": round(med, 4),
                          "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
