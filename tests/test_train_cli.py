"""train.py as a command: dry runs of every flagfile, and one-line errors for bad task / data / sizes."""

import json
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
FLAGFILES = ["cityscapes", "ade20k", "coco_stuff", "deepfashion", "celebamask_hq", "facades", "synthetic"]
EXPECTED = {  # dataset: (height, width, batch, niter + niter_decay, semantic_nc)
    "cityscapes": (256, 512, 8, 200, 36), "ade20k": (256, 256, 24, 200, 151), "coco_stuff": (256, 256, 32, 100, 184),
    "deepfashion": (256, 256, 32, 100, 20), "celebamask_hq": (256, 256, 16, 100, 19),
    "facades": (256, 256, 4, 100, 13), "synthetic": (64, 64, 4, 4, 14),
}


def run_train(*args, timeout=180):
    return subprocess.run([sys.executable, str(REPO / "train.py"), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def check_dry_run(name, result):
    config, resolved, params = result["config"], result["resolved"], result["parameters"]
    h, w, batch, epochs, semantic_nc = EXPECTED[name]
    assert (config["dataset"], config["model"], config["upsampler"]) == (name, "lggan", "sau")
    assert (resolved["height"], resolved["width"], resolved["semantic_nc"]) == (h, w, semantic_nc)
    assert (config["batch_size"], config["niter"] + config["niter_decay"]) == (batch, epochs)
    assert params["generator_total"] > params["global"] > 0 and params["discriminator_total"] > 0
    if name != "synthetic":  # paper settings: full width, VGG loss on, TTUR
        assert (config["ngf"], config["ndf"], config["lambda_vgg"], config["ttur"]) == (64, 64, 10.0, True)
        assert params["generator_total"] > 100e6
    else:
        assert (config["lambda_vgg"], config["vgg_weights"]) == (0.0, "none")


def test_dry_run_cli_prints_the_resolved_run():
    """`train.py --dry_run` end to end, once (a subprocess costs ~5 s of imports; the other flagfiles go through the
    same library call in-process below)."""
    proc = run_train("--dry_run", "--flagfile=flags/cityscapes.cfg")
    assert proc.returncode == 0, proc.stderr[-2000:]
    check_dry_run("cityscapes", json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("name", FLAGFILES)
def test_dry_run_resolves_each_flagfile(name):
    """What `train.py --dry_run --flagfile=flags/<name>.cfg` prints: the flags parsed as train.py parses them, then
    trainer.dry_run (full-size G and D built, parameters counted)."""
    from lggan_tf import trainer
    from tests.test_flagfiles import resolve

    result = json.loads(json.dumps(trainer.dry_run(resolve(f"--flagfile=flags/{name}.cfg"))))
    check_dry_run(name, result)


def test_task_and_dataset_mismatch_is_one_clear_line():
    proc = run_train("--task=cross_view", "--dataset=cityscapes", "--dry_run")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--dataset=cityscapes is a synthesis dataset but --task=cross_view" in proc.stderr


def test_dataset_problem_is_one_clear_line(tmp_path):
    proc = run_train("--dataset=cityscapes", f"--data_dir={tmp_path / 'missing'}", f"--model_dir={tmp_path / 'run'}")
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: dataset:") and "missing" in errors[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_bad_training_size_names_the_flags(tmp_path):
    proc = run_train("--height=48", "--width=64", f"--model_dir={tmp_path / 'run'}")
    assert proc.returncode == 2
    assert "--height/--width" in proc.stderr and "multiples of 32" in proc.stderr


def test_training_past_the_schedule_end_exits_2_before_building(tmp_path):
    # 8 scenes / batch 2 = 4 steps per epoch; niter 2 + niter_decay 2 = 16 steps, the rate is 0 after that
    proc = run_train("--train_steps=1000", "--num_examples=8", "--batch_size=2", f"--model_dir={tmp_path / 'run'}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (error,) = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert "--train_steps=1000" in error and "= 16 steps" in error and "niter + niter_decay = 2 + 2" in error
    assert not (tmp_path / "run").exists()
