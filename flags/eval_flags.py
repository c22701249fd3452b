"""Flags of evaluate.py and their conversion to an `EvalRequest` (lggan_tf.metrics.runner)."""

from __future__ import annotations

from absl import flags


def define_eval_flags() -> None:
    d = flags
    d.DEFINE_string("model_dir", "", "Run directory: generate the split with its latest (or --checkpoint) generator.")
    d.DEFINE_string("checkpoint", "", "Checkpoint prefix (runs/x/checkpoints/ckpt-400); default: latest in model_dir.")
    d.DEFINE_string("saved_model", "", "Exported SavedModel with a generate_onehot signature (needs --dataset).")
    d.DEFINE_string("real_dir", "", "Folder mode: real images (paired with --fake_dir by file name).")
    d.DEFINE_string("fake_dir", "", "Folder mode: generated images.")
    d.DEFINE_string("label_dir", "", "Folder mode: label maps (class-id PNGs) for miou / pixel_accuracy.")
    d.DEFINE_string("out_dir", "", "Where metric-<name>.jsonl go; default model_dir (or fake_dir).")
    d.DEFINE_string("dataset", "", "Dataset name (record + cache key; required with --saved_model).")
    d.DEFINE_string("data_dir", "", "Dataset root; default: the run's --data_dir.")
    d.DEFINE_string("split", "val", "Split to generate and score.")
    d.DEFINE_integer("num_samples", 0, "Use the first N examples of the split (0 = all).")
    d.DEFINE_integer("height", 0, "--saved_model: generation height (0 = dataset's).")
    d.DEFINE_integer("width", 0, "--saved_model: generation width (0 = dataset's).")
    d.DEFINE_integer("batch_size", 8, "Images per generator / network call.")
    d.DEFINE_integer("seed", 0, "Seed (data order, KID subsets).")
    d.DEFINE_list("metrics", ["fid", "ssim", "psnr"], "Comma list of metrics (lggan_tf.metrics.list_metrics()).")
    d.DEFINE_enum("protocol", "standard", ["standard", "selectiongan"],
                  "SSIM/PSNR/SD convention: standard (tf.image) or selectiongan (the published Lua scripts).")
    d.DEFINE_string("inception_weights", "imagenet",
                    "FID/KID features: a directory converted from pytorch-fid's pt_inception-2015-12-05 weights "
                    "(python -m lggan_tf.metrics.convert inception_fid; reported as fid / kid, the paper's FID), "
                    "imagenet (Keras download; fid_keras / kid_keras; offline -> tiny), a local Keras Inception-v3 "
                    "no-top weights file (fid_keras), or tiny (built-in; fid_uncalibrated).")
    d.DEFINE_string("stats_cache_dir", "", "Cache of real-set FID statistics (default <out_dir>/eval/fid_stats).")
    d.DEFINE_integer("kid_subsets", 100, "KID: number of random subsets.")
    d.DEFINE_string("segmenter", "", "miou / pixel_accuracy network: a segmenter dir (segmenter.json), .keras or "
                    "SavedModel.")
    d.DEFINE_integer("segmenter_classes", 0, "Classes of a segmenter without segmenter.json.")
    d.DEFINE_list("segmenter_input_size", [], "h,w the segmenter runs at (images are resized; logits resized back).")
    d.DEFINE_enum("segmenter_input_range", None, ["-1,1", "0,1", "0,255"], "Segmenter input scaling.")
    d.DEFINE_string("label_mapping", "", "Dataset label id -> segmenter class: identity or cityscapes_train_ids.")
    d.DEFINE_string("classifier", "", "Scene classifier (Places365) for inception_score / accuracy / kl.")
    d.DEFINE_enum("classifier_preprocess", "places", ["places", "none"], "Classifier input transform.")
    d.DEFINE_enum("classifier_outputs", "logits", ["logits", "probs"], "What the classifier returns.")
    d.DEFINE_string("lpips_weights", "", "LPIPS v0.1 directory converted with python -m lggan_tf.metrics.convert "
                    "lpips_alex|lpips_vgg, or 'uncalibrated' (built-in extractor, lpips_uncalibrated).")
    d.DEFINE_boolean("report", False, "Also write report.html + grid.png (model mode).")
    d.DEFINE_integer("report_images", 8, "Examples in the report grid.")


def request_from_flags(fl):
    """flags -> EvalRequest (ValueError on bad combinations)."""
    from lggan_tf.metrics.definitions import EvalOptions
    from lggan_tf.metrics.runner import EvalRequest

    size = tuple(int(v) for v in fl.segmenter_input_size) if fl.segmenter_input_size else None
    if size is not None and len(size) != 2:
        raise ValueError(f"--segmenter_input_size={fl.segmenter_input_size}: expected h,w")
    options = EvalOptions(
        dataset=fl.dataset or "folder", split=fl.split, batch_size=fl.batch_size, seed=fl.seed, protocol=fl.protocol,
        inception_weights=fl.inception_weights, stats_cache_dir=fl.stats_cache_dir or None,
        kid_subsets=fl.kid_subsets, segmenter=fl.segmenter or None, segmenter_classes=fl.segmenter_classes or None,
        segmenter_input_size=size, segmenter_input_range=fl.segmenter_input_range,
        label_mapping=fl.label_mapping or None, classifier=fl.classifier or None,
        classifier_preprocess=fl.classifier_preprocess, classifier_outputs=fl.classifier_outputs,
        lpips_weights=fl.lpips_weights or None)
    if fl.batch_size < 1 or fl.num_samples < 0:
        raise ValueError(f"--batch_size={fl.batch_size} / --num_samples={fl.num_samples}: expected >= 1 / >= 0")
    return EvalRequest(
        metrics=tuple(fl.metrics), options=options, model_dir=fl.model_dir or None, checkpoint=fl.checkpoint or None,
        saved_model=fl.saved_model or None, real_dir=fl.real_dir or None, fake_dir=fl.fake_dir or None,
        label_dir=fl.label_dir or None, out_dir=fl.out_dir or None, data_dir=fl.data_dir or None,
        num_samples=fl.num_samples, height=fl.height, width=fl.width, report=fl.report,
        report_images=fl.report_images)
