"""Crash-safe checkpoints: `checkpoints/ckpt-<step>.{index,data-*}` plus the `checkpoint` state file.

A save writes the files into `checkpoints/.tmp-<step>/` (`tf.train.Checkpoint.write`), moves them into place, and
only then rewrites the state file (atomically: temp file + rename), so the "latest" entry never points at a partial
checkpoint. A failed save (disk full, permissions) removes its temp folder, leaves the previous checkpoint and state
untouched and raises `CheckpointSaveError`. Old checkpoints beyond `max_to_keep` are deleted after the state update.
The layout is the one `tf.train.CheckpointManager` writes, so `tf.train.latest_checkpoint(dir)` reads it.
"""

from __future__ import annotations

import glob
import os
import re
import shutil

import tensorflow as tf

PREFIX = "ckpt"
STATE_FILE = "checkpoint"


class CheckpointSaveError(RuntimeError):
    """A checkpoint could not be written; the previous one is intact."""


def checkpoint_step(path: str) -> int:
    """Step number of a `.../ckpt-<step>` prefix."""
    match = re.search(rf"{PREFIX}-(\d+)$", path)
    if not match:
        raise ValueError(f"checkpoint path {path!r}: expected a prefix ending in '{PREFIX}-<step>' "
                         "(e.g. runs/x/checkpoints/ckpt-200, without .index)")
    return int(match.group(1))


class AtomicCheckpointManager:
    """Writes and lists step-numbered checkpoints of `checkpoint` (a tf.train.Checkpoint) under `directory`.

    `chief=False` (multi-worker, non-chief): saves go to a private temp folder that is deleted right away (every
    worker must take part in the save; only the chief keeps the files).
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, directory: str, max_to_keep: int = 3, chief: bool = True,
                 worker_tag: str = "worker"):
        self.checkpoint, self.directory, self.max_to_keep, self.chief = checkpoint, directory, max_to_keep, chief
        self.worker_tag = worker_tag
        os.makedirs(directory, exist_ok=True)
        if chief:
            for stale in glob.glob(os.path.join(glob.escape(directory), ".tmp-*")):
                shutil.rmtree(stale, ignore_errors=True)  # left by a crash during a save: never referenced

    @property
    def latest(self) -> str | None:
        return tf.train.latest_checkpoint(self.directory)

    def all_checkpoints(self) -> list[str]:
        state = tf.train.get_checkpoint_state(self.directory)
        if state is None:
            return []
        return [p if os.path.isabs(p) else os.path.join(self.directory, p) for p in state.all_model_checkpoint_paths]

    def save(self, step: int) -> str:
        """Write checkpoint `ckpt-<step>`; returns its path prefix. Raises CheckpointSaveError on failure."""
        name = f"{PREFIX}-{int(step)}"
        tmp = os.path.join(self.directory, f".tmp-{int(step)}" + ("" if self.chief else f"-{self.worker_tag}"))
        previous = self.latest
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            self.checkpoint.write(os.path.join(tmp, name))
            if not self.chief:
                return os.path.join(self.directory, name)
            for filename in sorted(os.listdir(tmp)):
                os.replace(os.path.join(tmp, filename), os.path.join(self.directory, filename))
            kept = [os.path.basename(p) for p in self.all_checkpoints() if os.path.basename(p) != name]
            kept.append(name)
            dropped, kept = kept[:-self.max_to_keep], kept[-self.max_to_keep:]
            self._write_state(kept)
        except (OSError, tf.errors.OpError) as err:
            raise CheckpointSaveError(
                f"saving checkpoint {name} in {self.directory} failed ({type(err).__name__}: {err}); the previous "
                f"checkpoint {previous or '(none)'} is intact. Free disk space / fix permissions and re-run to "
                "resume from it") from err
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in dropped:
            for path in glob.glob(os.path.join(glob.escape(self.directory), old + ".*")):
                try:
                    os.remove(path)
                except OSError:
                    pass
        return os.path.join(self.directory, name)

    def _write_state(self, names: list[str]) -> None:
        """Atomically replace the `checkpoint` state file (relative paths, so the run dir can be moved)."""
        lines = [f'model_checkpoint_path: "{names[-1]}"'] + [f'all_model_checkpoint_paths: "{n}"' for n in names]
        tmp = os.path.join(self.directory, f".{STATE_FILE}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(self.directory, STATE_FILE))
