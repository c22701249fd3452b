"""Run directory layout (structure_anchors.md §9). Re-running on the same directory resumes.

    <model_dir>/config.json    resolved TrainConfig (+ the dataset facts used)
    <model_dir>/flags.txt      the absl flags of the first run, reusable with --flagfile
    <model_dir>/checkpoints/   ckpt-<step>.{index,data-*} + `checkpoint` state (lggan_tf.checkpoints)
    <model_dir>/tb/train/      TensorBoard events (scalars loss/*, lr/*, timing/*; images/*)
    <model_dir>/samples/       <step:08d>.png grids label|real|fused|global|local|weight and latest.png
    <model_dir>/stats.jsonl    one JSON object per log interval
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil


def replace_dir(tmp: str, final: str) -> None:
    """Put the complete directory `tmp` at `final`: an existing `final` is moved aside first and deleted only after
    the rename, so a crash leaves either the old or the new directory, never a partial one."""
    old = None
    if os.path.exists(final):
        old = final + ".old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    if old:
        shutil.rmtree(old, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class RunDir:
    root: str

    @property
    def config_json(self) -> str:
        return os.path.join(self.root, "config.json")

    @property
    def flags_txt(self) -> str:
        return os.path.join(self.root, "flags.txt")

    @property
    def checkpoints(self) -> str:
        return os.path.join(self.root, "checkpoints")

    @property
    def tb_train(self) -> str:
        return os.path.join(self.root, "tb", "train")

    @property
    def samples(self) -> str:
        return os.path.join(self.root, "samples")

    @property
    def stats(self) -> str:
        return os.path.join(self.root, "stats.jsonl")

    def create(self) -> None:
        for path in (self.root, self.checkpoints, self.tb_train, self.samples):
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as err:
                raise OSError(f"--model_dir={self.root!r}: cannot create {path} ({err}); choose a writable "
                              "directory") from err

    def read_config(self) -> dict | None:
        if not os.path.isfile(self.config_json):
            return None
        with open(self.config_json, encoding="utf-8") as f:
            return json.load(f)

    def write_text(self, path: str, text: str) -> None:
        """Write a small file atomically (temp + rename)."""
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)

    def write_config(self, record: dict) -> None:
        self.write_text(self.config_json, json.dumps(record, indent=2, sort_keys=True) + "\n")

    def write_flags(self, flags_text: str | None) -> None:
        """flags.txt is written once (by the first run) so `--flagfile=<model_dir>/flags.txt` replays it."""
        if flags_text and not os.path.exists(self.flags_txt):
            self.write_text(self.flags_txt, flags_text)


# Config fields that may change between the runs of one model_dir without changing the model or its data.
RESUMABLE_CHANGES = frozenset({"train_steps", "epochs", "resume", "log_every_steps", "summary_every_steps",
                               "save_every_steps", "keep_checkpoints", "num_sample_images", "inject_nan_at_step",
                               "model_dir", "data_dir", "jit_compile", "strategy", "logical_cpus"})


def config_changes(previous: dict, current: dict) -> dict:
    """{field: (previous, current)} for fields outside RESUMABLE_CHANGES that differ (a resume warning)."""
    changes = {}
    for key, value in current.items():
        if key in RESUMABLE_CHANGES or key not in previous:
            continue
        if previous[key] != value:
            changes[key] = (previous[key], value)
    return changes
