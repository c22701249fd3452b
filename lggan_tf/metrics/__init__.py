"""Evaluation metrics (the paper's tables): math modules plus a name registry.

    from lggan_tf import metrics
    metrics.list_metrics()                        # ['accuracy', 'fid', 'inception_score', 'kid', 'kl', ...]
    result = metrics.compute_metric("fid", context)   # MetricResult; report_metric(result, out_dir) -> JSON line

Math lives in small modules (frechet, scene_scores, segmentation, pixel_metrics, lpips); `definitions` fixes each
protocol in a few lines and registers it (StyleGAN's metric_main pattern, structure_anchors.md §1).
"""

from lggan_tf.metrics.registry import (MetricResult, compute_metric, list_metrics, register_metric,  # noqa: F401
                                       report_metric)
from lggan_tf.metrics import definitions  # noqa: F401,E402  (registers the metrics)
