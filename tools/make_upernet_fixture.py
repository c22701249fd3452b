"""Reference fixture for lggan_tf.metrics.nets.upernet (UperNet-101, ADE20K 150), run by hand:

    /work/torchvenv/bin/python tools/make_upernet_fixture.py [--mirror /work/.mirror/CSAILVision+semantic-segmentation-pytorch/repo]

Builds models.SegmentationModule(Resnet(resnet101), UPerNet(150, fc_dim 2048, fpn_dim 512, use_softmax=True)) from
CSAILVision/semantic-segmentation-pytorch at COMMIT (what eval.py builds for ade20k-resnet101-upernet), fills it
with seeded weights in its state_dict order (encoder.*, decoder.*; BN in eval mode) and stores:
- core: one ImageNet-normalised 64x96 input (layer4 is 2x3, so the 3x3 and 6x6 adaptive pools have overlapping /
  repeated bins), the conv_last logits at 1/4 and the first 4 channels of layer1-4;
- multi-scale: one 40x56 uint8 image through eval.py's loop with dataset.ValDataset's resize (PIL bilinear on uint8,
  short sides (48, 72), max 1000, padding constant 32 -> 64x96 and 96x128), softmax scores averaged at 40x56; the
  first 24 classes' scores, the argmax over all 150 and, per scale, the first 8 classes' logits upsampled to 40x56
  (before the softmax, which the seeded weights saturate) are stored (all 150 would not fit the 1 MB budget).
"""

import argparse

import numpy as np
import torch
from PIL import Image

import fixture_io
import seg_fixture_common as common

COMMIT = "8f27c9b97d2ca7c6e05333d5766d144bf7d8c31b"
SEED = 101
SHORT_SIDES, MAX_SIZE, PADDING = (48, 72), 1000, 32
MEAN, STD = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
FILES = ["mit_semseg/__init__.py", "mit_semseg/models/__init__.py", "mit_semseg/models/models.py",
         "mit_semseg/models/resnet.py", "mit_semseg/models/resnext.py", "mit_semseg/models/mobilenet.py",
         "mit_semseg/models/hrnet.py", "mit_semseg/models/utils.py", "mit_semseg/lib/__init__.py",
         "mit_semseg/lib/nn/__init__.py", "mit_semseg/lib/nn/modules/__init__.py",
         "mit_semseg/lib/nn/modules/batchnorm.py", "mit_semseg/lib/nn/modules/comm.py",
         "mit_semseg/lib/nn/modules/replicate.py", "mit_semseg/lib/nn/parallel/__init__.py",
         "mit_semseg/lib/nn/parallel/data_parallel.py", "mit_semseg/config/__init__.py",
         "mit_semseg/config/defaults.py", "mit_semseg/dataset.py", "mit_semseg/utils.py",
         "mit_semseg/lib/utils/__init__.py", "mit_semseg/lib/utils/th.py", "mit_semseg/lib/utils/data/__init__.py",
         "mit_semseg/lib/utils/data/dataset.py", "mit_semseg/lib/utils/data/distributed.py",
         "mit_semseg/lib/utils/data/sampler.py", "mit_semseg/lib/utils/data/dataloader.py"]


def val_resize(image: np.ndarray, short: int) -> torch.Tensor:
    """dataset.ValDataset.__getitem__'s per-scale resize + img_transform, for one uint8 HWC image."""
    img = Image.fromarray(image)
    ori_width, ori_height = img.size
    scale = min(short / float(min(ori_height, ori_width)), MAX_SIZE / float(max(ori_height, ori_width)))
    target_height, target_width = int(ori_height * scale), int(ori_width * scale)
    target_width = ((target_width - 1) // PADDING + 1) * PADDING
    target_height = ((target_height - 1) // PADDING + 1) * PADDING
    resized = np.float32(np.array(img.resize((target_width, target_height), Image.BILINEAR))) / 255.0
    return torch.from_numpy(((resized - MEAN) / STD).transpose(2, 0, 1)[None].copy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirror", default="/work/.mirror/CSAILVision+semantic-segmentation-pytorch/repo")
    args = ap.parse_args()
    common.export_reference(args.mirror, COMMIT, FILES)
    from mit_semseg.models import models, resnet  # noqa: E402  (the reference, exported above)

    encoder = models.Resnet(resnet.resnet101(pretrained=False))
    decoder = models.UPerNet(num_class=150, fc_dim=2048, use_softmax=True, fpn_dim=512)
    module = models.SegmentationModule(encoder, decoder, crit=None)
    layout = fixture_io.load_seeded(module, SEED)
    module.eval()
    rng = np.random.default_rng(SEED + 1)
    arrays = {"normalized": rng.normal(0.0, 1.0, (1, 64, 96, 3)).astype(np.float32)}
    x = torch.from_numpy(arrays["normalized"].transpose(0, 3, 1, 2).copy())
    with torch.no_grad():
        feats = encoder(x, return_feature_maps=True)
        for i, f in enumerate(feats, start=1):
            arrays[f"layer{i}"] = common.nhwc(f)[..., :4]
        decoder.use_softmax = False  # conv_last logits: forward's log_softmax branch, undone below
        log_probs = decoder(feats)
        decoder.use_softmax = True
        conv_last = decoder.conv_last(_fusion(decoder, feats))
        assert torch.allclose(torch.log_softmax(conv_last, 1), log_probs, atol=1e-5)
        arrays["logits"] = common.nhwc(conv_last)
        image = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
        seg_size = image.shape[:2]
        scores = torch.zeros(1, 150, *seg_size)
        for i, short in enumerate(SHORT_SIDES):  # eval.py evaluate(): scores += module(img, segSize) / len(imgSizes)
            img = val_resize(image, short)
            scores = scores + module({"img_data": img}, segSize=seg_size) / len(SHORT_SIDES)
            feats = encoder(img, return_feature_maps=True)  # UPerNet.forward's use_softmax branch before softmax
            up = torch.nn.functional.interpolate(decoder.conv_last(_fusion(decoder, feats)), size=seg_size,
                                                 mode="bilinear", align_corners=False)
            arrays[f"ms_logits{i}"] = common.nhwc(up)[..., :8]
    arrays["ms_image"] = image[None]
    arrays["ms_scores24"] = common.nhwc(scores)[..., :24]
    arrays["ms_argmax"] = scores.argmax(1).numpy().astype(np.uint8)
    fixture_io.write_fixture("upernet_101", arrays, {
        "network": "upernet_101", "repo": "CSAILVision/semantic-segmentation-pytorch", "commit": COMMIT,
        "seed": SEED, "layout": layout, "short_sides": list(SHORT_SIDES), "max_size": MAX_SIZE,
        "padding_constant": PADDING,
        "reference": "models.SegmentationModule(Resnet(resnet101), UPerNet(150, 2048, use_softmax=True, fpn_dim=512))"
                     ", eval.py evaluate() scale loop with dataset.ValDataset resizing (PIL bilinear)",
        "protocol": "short sides (300, 375, 450, 525, 600), max 1000, padding constant 32 (the test uses smaller "
                    "short sides to keep the fixture small)"})


def _fusion(decoder, conv_out):
    """UPerNet.forward up to (not including) conv_last, verbatim from models.py at COMMIT."""
    import torch.nn as nn

    conv5 = conv_out[-1]
    input_size = conv5.size()
    ppm_out = [conv5]
    for pool_scale, pool_conv in zip(decoder.ppm_pooling, decoder.ppm_conv):
        ppm_out.append(pool_conv(nn.functional.interpolate(
            pool_scale(conv5), (input_size[2], input_size[3]), mode='bilinear', align_corners=False)))
    ppm_out = torch.cat(ppm_out, 1)
    f = decoder.ppm_last_conv(ppm_out)
    fpn_feature_list = [f]
    for i in reversed(range(len(conv_out) - 1)):
        conv_x = decoder.fpn_in[i](conv_out[i])
        f = nn.functional.interpolate(f, size=conv_x.size()[2:], mode='bilinear', align_corners=False)
        f = conv_x + f
        fpn_feature_list.append(decoder.fpn_out[i](f))
    fpn_feature_list.reverse()
    output_size = fpn_feature_list[0].size()[2:]
    fusion_list = [fpn_feature_list[0]]
    for i in range(1, len(fpn_feature_list)):
        fusion_list.append(nn.functional.interpolate(fpn_feature_list[i], output_size, mode='bilinear',
                                                     align_corners=False))
    return torch.cat(fusion_list, 1)


if __name__ == "__main__":
    main()
