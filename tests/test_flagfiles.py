"""Every training flagfile in flags/ and the bare --task=cross_view, resolved in-process (no model is built):
each value a flagfile sets reaches the config, and the settings match the official ones, written below from
../shared/reference/lggan_official_code.md (and checked against that file's tables when it is present)."""

import pathlib
import re

import pytest
from absl import flags as absl_flags

from flags import train_flags
from lggan_tf import schedules
from lggan_tf.train_config import TrainConfig
from tests.conftest import SHARED_DATA

REPO = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = SHARED_DATA.parent / "reference" / "lggan_official_code.md"
TRAIN_FLAGFILES = sorted(p.stem for p in (REPO / "flags").glob("*.cfg") if not p.stem.startswith("eval_"))

# lggan_official_code.md §1.2 and §1.6 (SIS): TTUR Adam(0, 0.9), lr 2e-4 -> G 1e-4, D 4e-4; hinge; lambda_feat 10,
# lambda_vgg 10, local L1 1, class CE 1, image L1 off (--no_l1_loss); ngf = ndf = 64.
SIS_OFFICIAL = dict(task="synthesis", model="lggan", ngf=64, ndf=64, spade_hidden=128, lr=2e-4, ttur=True,
                    gan_mode="hinge", lambda_feat=10.0, lambda_vgg=10.0, lambda_l1_local=1.0, lambda_class=1.0,
                    lambda_l1=0.0, vgg_weights="imagenet")
# §1.3: (height, width, batch, niter, niter_decay); COCO-Stuff, DeepFashion, CelebAMask-HQ, Facades are DAGAN's.
SIS_DATASETS = {"cityscapes": (256, 512, 8, 100, 100), "ade20k": (256, 256, 24, 100, 100),
                "coco_stuff": (256, 256, 32, 50, 50), "deepfashion": (256, 256, 32, 50, 50),
                "celebamask_hq": (256, 256, 16, 50, 50), "facades": (256, 256, 4, 50, 50)}
# §2.2-2.4 (cross-view): ngf = ndf = 64, sigmoid D + BCE, Adam(2e-4, 0.5, 0.999) without TTUR, L1 100 on each image
# and on the class sub-images, VGG 10, TV 1e-6, no feature matching, no classifier, float32, every image.
CROSS_VIEW_OFFICIAL = dict(task="cross_view", model="lggan", upsampler="convtranspose", ngf=64, ndf=64, lr=2e-4,
                           beta1=0.5, beta2=0.999, ttur=False, gan_mode="original", lambda_feat=0.0, lambda_vgg=10.0,
                           lambda_l1=100.0, lambda_l1_local=100.0, lambda_tv=1e-6, vgg_weights="imagenet",
                           cross_view_classifier=False, num_examples=0, mixed_precision="float32")
# §2.4 script table: flagfile -> (official script, dataset, crop size, batch, niter, niter_decay)
CROSS_VIEW_SCRIPTS = {
    "dayton_a2g": ("train_dayton_a2g_256.sh", "dayton", 256, 4, 20, 15),
    "dayton_g2a": ("train_dayton_g2a_256.sh", "dayton_g2a", 256, 4, 20, 15),
    "dayton_a2g_64": ("train_dayton_a2g_64.sh", "dayton", 64, 16, 50, 50),
    "dayton_g2a_64": ("train_dayton_g2a_64.sh", "dayton_g2a", 64, 16, 50, 50),
    "cvusa": ("train_cvusa.sh", "cvusa", 256, 4, 15, 15),
    "sva": ("train_sva.sh", "sva", 256, 4, 10, 10),
    None: ("train_dayton_a2g_256.sh", "dayton", 256, 4, 20, 15),  # bare --task=cross_view: Dayton a2g 256
}


def resolve(*argv) -> TrainConfig:
    fv = absl_flags.FlagValues()
    train_flags.define_train_flags(fv)
    fv(["train.py", *argv])
    return train_flags.config_from_flags(fv)


def flagfile_values(name) -> dict:
    """{config field: value} of the `--key=value` lines of flags/<name>.cfg, typed as the config's field."""
    defaults, values = TrainConfig(), {}
    for line in (REPO / "flags" / f"{name}.cfg").read_text().splitlines():
        if not line.startswith("--"):
            continue
        key, _, raw = line[2:].partition("=")
        field = "ttur" if key == "no_ttur" else key
        kind = type(getattr(defaults, field))
        if kind is bool:
            value = {"true": True, "false": False}[raw.lower()]
            values[field] = not value if key == "no_ttur" else value
        else:
            values[field] = kind(raw)
    return values


# SEAN's flagfiles (sean_official_code.md §2.6; checked in tests/trainer/test_sean_training.py): no LGGAN options.
SEAN_FLAGFILES = {"sean_celebamask_hq", "sean_cityscapes", "sean_ade20k"}


def test_every_training_flagfile_is_covered():
    assert set(TRAIN_FLAGFILES) == (set(SIS_DATASETS) | {k for k in CROSS_VIEW_SCRIPTS if k} | {"synthetic"}
                                    | SEAN_FLAGFILES)


@pytest.mark.parametrize("name", TRAIN_FLAGFILES)
def test_each_value_a_flagfile_sets_reaches_the_config(name):
    values = flagfile_values(name)
    config = resolve(f"--flagfile={REPO / 'flags' / (name + '.cfg')}")
    lggan_options = {"d_judges", "weight_map_head", "class_pooling"}
    assert len(values) >= 28 and (name in SEAN_FLAGFILES or lggan_options <= set(values))
    assert {k: getattr(config, k) for k in values} == values


@pytest.mark.parametrize("name", sorted(SIS_DATASETS))
def test_synthesis_flagfiles_hold_the_official_settings(name):
    from lggan_tf.train_setup import resolve_run

    config = resolve(f"--flagfile={REPO / 'flags' / (name + '.cfg')}")
    assert {k: getattr(config, k) for k in SIS_OFFICIAL} == SIS_OFFICIAL
    run = resolve_run(config, count=False)
    assert (run.height, run.width, config.batch_size, config.niter, config.niter_decay) == SIS_DATASETS[name]
    s = schedules.optimizer_settings(config.lr, config.beta1, config.beta2, config.ttur)
    assert (s.lr_g, s.lr_d, s.beta1, s.beta2) == pytest.approx((1e-4, 4e-4, 0.0, 0.9))
    # paper defaults where the paper and the official code disagree (docs/fidelity.md)
    assert (config.d_judges, config.weight_map_head, config.class_pooling) == ("fused", "paper", "paper")


@pytest.mark.parametrize("name", sorted(CROSS_VIEW_SCRIPTS, key=str))
def test_cross_view_flagfiles_and_bare_task_hold_the_official_settings(name):
    from lggan_tf.train_setup import resolve_run

    argv = ["--task=cross_view"] if name is None else [f"--flagfile={REPO / 'flags' / (name + '.cfg')}"]
    config = resolve(*argv)
    assert {k: getattr(config, k) for k in CROSS_VIEW_OFFICIAL} == CROSS_VIEW_OFFICIAL
    _, dataset, size, batch, niter, decay = CROSS_VIEW_SCRIPTS[name]
    run = resolve_run(config, count=False)
    assert (config.dataset, run.height, run.width, config.batch_size, config.niter, config.niter_decay) == (
        dataset, size, size, batch, niter, decay)
    s = schedules.optimizer_settings(config.lr, config.beta1, config.beta2, config.ttur)
    assert (s.lr_g, s.lr_d, s.beta1, s.beta2) == pytest.approx((2e-4, 2e-4, 0.5, 0.999))


def test_tables_above_agree_with_the_reference():
    """The official values written above, read again from lggan_official_code.md's own tables."""
    if not REFERENCE.is_file():
        pytest.skip(f"reference notes not found at {REFERENCE} (set LGGAN_SHARED_DATA to ../shared/data)")
    text = REFERENCE.read_text()
    scripts = {}
    for row in re.findall(r"^\| (`train_[^|]+) \| [^|]+ \| (\d+) \| \d+ → (\d+) \| (\d+) \+ (\d+) \|$", text, re.M):
        for script in re.findall(r"`(train_\w+\.sh)`", row[0]):
            scripts[script] = tuple(int(v) for v in row[1:])  # batch, fine size, niter, niter_decay
    assert len(scripts) == 6
    for script, _, size, batch, niter, decay in CROSS_VIEW_SCRIPTS.values():
        assert scripts[script] == (batch, size, niter, decay), script
    assert re.search(r"\| Global L1 \|[^\n]*λ_L1 = 100 \|", text) and re.search(r"\| Local L1 \|[^\n]*= 100 \|", text)
    assert re.search(r"\| VGG19 perceptual \|[^\n]*= 10 \|", text) and "`--REGULARIZATION` 1e−6" in text
    assert "Adam(lr 2e-4, β = (0.5, 0.999))" in text
    sis = {}
    for name, row in (("cityscapes", "Cityscapes"), ("ade20k", "ADE20K"), ("coco_stuff", "COCO-Stuff\\*"),
                      ("deepfashion", "DeepFashion\\*"), ("celebamask_hq", "CelebAMask-HQ\\*"),
                      ("facades", "Facades\\*")):
        cells = re.search(rf"^\| {row} \|(.*)\|$", text, re.M).group(1).split("|")
        batch = int(re.search(r"\d+", cells[-2]).group())
        niter, decay = map(int, re.search(r"(\d+) \+ (\d+)", cells[-1]).groups())
        sis[name] = (batch, niter, decay)
    assert sis == {name: v[2:] for name, v in SIS_DATASETS.items()}
    assert "lr_G = lr/2 = 1e-4, lr_D = 2·lr = 4e-4" in text and "| `--lambda_feat`, `--lambda_vgg`" in text
