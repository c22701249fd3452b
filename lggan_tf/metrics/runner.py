"""Evaluation driver behind evaluate.py: generate (or take) paired folders, score every metric, report JSON lines.

    request = EvalRequest(model_dir="runs/x", metrics=("fid", "miou"), options=EvalOptions(...))
    results = run_evaluation(request)        # list[MetricResult]; lines in <out_dir>/metric-<name>.jsonl

Modes: model_dir / checkpoint / saved_model -> generate the split into <model_dir>/eval/<split>-<step>/ (or
<out_dir>/eval/<split>/ for a SavedModel) and score it; real_dir + fake_dir (+ label_dir) -> score those folders.
"""

from __future__ import annotations

import dataclasses
import os

from lggan_tf.metrics.definitions import EvalContext, EvalOptions
from lggan_tf.metrics.image_folders import pair_folders
from lggan_tf.metrics.registry import compute_metric, report_metric, validate_metrics


@dataclasses.dataclass(frozen=True)
class EvalRequest:
    metrics: tuple[str, ...]
    options: EvalOptions = EvalOptions()
    model_dir: str | None = None
    checkpoint: str | None = None
    saved_model: str | None = None
    real_dir: str | None = None
    fake_dir: str | None = None
    label_dir: str | None = None
    out_dir: str | None = None
    data_dir: str | None = None
    num_samples: int = 0
    height: int = 0
    width: int = 0
    report: bool = False
    report_images: int = 8


def _mode(r: EvalRequest) -> str:
    model = bool(r.model_dir or r.checkpoint or r.saved_model)
    folders = bool(r.real_dir or r.fake_dir)
    if model == folders:
        raise ValueError("pass either --model_dir/--checkpoint/--saved_model (generate and score) or --real_dir and "
                         "--fake_dir (score existing images), not both / neither")
    if folders and not (r.real_dir and r.fake_dir):
        raise ValueError("folder mode needs both --real_dir and --fake_dir (and --label_dir for miou)")
    if r.report and not (r.model_dir or r.checkpoint):
        raise ValueError("--report needs --model_dir or --checkpoint (it shows global/local/weight-map outputs)")
    return "model" if model else "folders"


def run_evaluation(request: EvalRequest) -> list:
    """Score `request.metrics`; returns the MetricResults (also printed and appended to metric-<name>.jsonl)."""
    metrics = validate_metrics(request.metrics)
    o = request.options
    run, info = None, {"checkpoint": None, "step": None}
    if _mode(request) == "folders":
        pairs = pair_folders(request.real_dir, request.fake_dir, request.label_dir)
        out_dir = request.out_dir or request.fake_dir
    else:
        run, generated, out_dir, info = _generate(request)
        pairs = pair_folders(generated.real_dir, generated.fake_dir, generated.label_dir)
        o = dataclasses.replace(o, dataset=info.pop("dataset"),
                                stats_cache_dir=o.stats_cache_dir or os.path.join(out_dir, "eval", "fid_stats"))
    ctx = EvalContext(pairs, o)
    record = {"dataset": o.dataset, "split": o.split, "num_samples": len(pairs), **info, "seed": o.seed}
    results = []
    for name in metrics:
        result = compute_metric(name, ctx)
        report_metric(result, out_dir, **record)
        results.append(result)
    if request.report:
        from lggan_tf.report import write_report

        print(f"report: {write_report(generated.directory, run, ctx, results, request.report_images)}", flush=True)
    return results


def _generate(request: EvalRequest):
    from lggan_tf.metrics.generate import generate_split, saved_model_generator

    o = request.options
    if request.saved_model:
        from datasets import get_spec

        if o.dataset == "folder":
            raise ValueError("--saved_model needs --dataset (the dataset it was trained on)")
        spec = get_spec(o.dataset)
        generator, run = saved_model_generator(request.saved_model), None
        out_dir = request.out_dir or request.saved_model
        split_dir = os.path.join(out_dir, "eval", o.split)
        info = {"checkpoint": os.path.abspath(request.saved_model), "step": None, "dataset": spec.name}
        size = (request.height or None, request.width or None)
        data_dir = request.data_dir
    else:
        from lggan_tf.inference import load_run

        model_dir = request.model_dir or os.path.dirname(os.path.dirname(request.checkpoint))
        run = load_run(model_dir, request.checkpoint)
        spec, generator = run.plan.spec, run.generator
        out_dir = request.out_dir or model_dir
        split_dir = os.path.join(out_dir, "eval", f"{o.split}-{run.step}")
        info = {"checkpoint": os.path.relpath(run.checkpoint, model_dir), "step": run.step, "dataset": spec.name}
        size = (run.plan.data_height, run.plan.data_width)
        data_dir = request.data_dir or run.config.data_dir
    generated = generate_split(generator, spec, o.split, split_dir, request.num_samples, o.batch_size, data_dir,
                               *size, seed=o.seed)
    return run, generated, out_dir, info


__all__ = ["EvalRequest", "run_evaluation"]
