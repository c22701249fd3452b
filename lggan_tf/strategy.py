"""Distribution strategy and mixed-precision policy selection (tf_keras_notes.md §3-4).

- `configure_logical_cpus(n)` must run before TensorFlow initialises its devices (first op); it splits the CPU
  into n logical devices so MirroredStrategy can be exercised without GPUs (tests, not speed).
- `make_strategy('auto')`: MultiWorkerMirrored when TF_CONFIG names several workers, Mirrored with several GPUs
  (or several logical CPUs), else OneDevice on GPU:0 / CPU:0.
- `resolve_precision('auto')`: mixed_bfloat16 where the hardware does bf16 natively (GPU compute capability >= 8,
  or a CPU with AVX512_BF16 / AMX-BF16: oneDNN runs bf16 convs ~1.6x faster there), float32 elsewhere.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf


def configure_logical_cpus(n: int) -> None:
    """Split CPU:0 into `n` logical devices (n >= 2); raises a clear error once TF is initialised."""
    if n < 2:
        return
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError as err:
        raise RuntimeError(f"--logical_cpus={n}: TensorFlow devices are already initialised ({err}); configure "
                           "logical CPUs before any TensorFlow op runs (train.py does this first)") from err


def tf_config_workers() -> int:
    """Number of workers (chief included) named in the TF_CONFIG environment variable (0 when unset)."""
    raw = os.environ.get("TF_CONFIG", "")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err}); expected "
                         '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}') from err
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def make_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """A tf.distribute strategy by name ('auto', 'one_device', 'mirrored', 'multi_worker')."""
    if name == "auto":
        if tf_config_workers() > 1:
            name = "multi_worker"
        elif len(tf.config.list_logical_devices("GPU")) > 1 or len(tf.config.list_logical_devices("CPU")) > 1:
            name = "mirrored"
        else:
            name = "one_device"
    if name == "multi_worker":
        if tf_config_workers() < 1:
            raise ValueError("--strategy=multi_worker needs the TF_CONFIG environment variable (cluster + task); "
                             "see the README's multi-worker section")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    raise ValueError(f"--strategy={name!r}: expected one of auto, one_device, mirrored, multi_worker")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the worker that writes the run directory (the only process outside multi-worker runs)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (task_type == "worker" and task_id == 0
                                    and "chief" not in resolver.cluster_spec().as_dict())


def worker_id(strategy: tf.distribute.Strategy) -> str:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return "local"
    return f"{resolver.task_type}-{resolver.task_id}"


def cpu_supports_bf16() -> bool:
    """AVX512_BF16 or AMX-BF16 in /proc/cpuinfo (Linux); False when it cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        return False
    return False


def gpus_support_bf16() -> bool:
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return False
    for gpu in gpus:
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        if tuple(capability) < (8, 0):
            return False
    return True


def resolve_precision(policy: str = "auto") -> str:
    """The Keras mixed-precision policy name to use; 'auto' picks bf16 only on hardware that runs it natively."""
    if policy != "auto":
        return policy
    if tf.config.list_physical_devices("GPU"):
        return "mixed_bfloat16" if gpus_support_bf16() else "float32"
    return "mixed_bfloat16" if cpu_supports_bf16() else "float32"
