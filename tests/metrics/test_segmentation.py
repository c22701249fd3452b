"""Confusion matrix, per-class IoU, mIoU and pixel accuracy; the label mapping (Cityscapes ids -> train ids)."""

import numpy as np
import pytest

from lggan_tf.metrics.segmentation import (Segmenter, confusion_matrix, label_lookup, miou_from_confusion,
                                           per_class_iou, pixel_accuracy_from_confusion)


def test_miou_and_accuracy_from_a_known_confusion_matrix():
    conf = np.array([[8, 2, 0], [1, 4, 0], [0, 0, 0]])  # class 2 absent everywhere -> excluded
    iou = per_class_iou(conf)
    np.testing.assert_allclose(iou[:2], [8 / 11, 4 / 7])
    assert np.isnan(iou[2])
    assert miou_from_confusion(conf) == pytest.approx((8 / 11 + 4 / 7) / 2)
    assert pixel_accuracy_from_confusion(conf) == pytest.approx(12 / 15)


def test_confusion_matrix_counts_and_ignores_out_of_range_labels():
    labels = np.array([[0, 0, 1], [1, 255, 2]])
    preds = np.array([[0, 1, 1], [2, 0, 2]])
    conf = confusion_matrix(labels, preds, 3)
    assert conf.sum() == 5 and conf[0, 0] == 1 and conf[0, 1] == 1 and conf[1, 2] == 1 and conf[2, 2] == 1


def test_cityscapes_label_ids_map_to_19_train_ids():
    lut = label_lookup("cityscapes_train_ids")
    assert lut[7] == 0 and lut[26] == 13 and lut[33] == 18 and lut[0] == 255 and lut[34] == 255
    assert len(set(lut[lut != 255])) == 19


def test_segmenter_maps_labels_and_resizes_logits():
    def model(x):  # "class 1 where red is bright", at half resolution
        import tensorflow as tf
        logit = tf.concat([-x[..., :1], x[..., :1]], -1)
        return tf.image.resize(logit, (x.shape[1] // 2, x.shape[2] // 2), "nearest")

    seg = Segmenter(model, num_classes=2, input_range="-1,1", label_map={5: 1, 3: 0})
    img = np.zeros((1, 8, 8, 3), np.uint8)
    img[:, :, 4:, 0] = 255
    pred = seg.predict(img)
    assert pred.shape == (1, 8, 8) and pred[0, 0, 0] == 0 and pred[0, 0, 7] == 1
    np.testing.assert_array_equal(seg.map_labels(np.array([5, 3, 9])), [1, 0, 255])


def test_missing_segmenter_names_the_flag():
    with pytest.raises(FileNotFoundError, match="--segmenter"):
        Segmenter.load("/nonexistent/segmenter")
