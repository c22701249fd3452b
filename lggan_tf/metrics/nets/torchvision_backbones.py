"""torchvision's AlexNet and VGG16 `features` as Keras layers (NHWC), with the PyTorch state_dict layout.

    taps = alexnet_features(keras, x)      # [relu1 .. relu5] of torchvision.models.alexnet().features (LPIPS taps)
    taps = vgg16_features(keras, x)        # [relu1_2, relu2_2, relu3_3, relu4_3, relu5_3]
    weights = convert_features(state, ALEXNET_CONVS)   # {"features_0/kernel": ..., "features_0/bias": ...}

Layer `features_N` is torchvision's `features[N]`. Explicit PyTorch paddings become ZeroPadding2D + 'valid' conv
where 'same' would differ (AlexNet conv1: kernel 11, stride 4, padding 2); max pools are 'valid' (floor mode).
"""

from __future__ import annotations

from lggan_tf.metrics.nets import common

# features index -> (out channels, in channels, kernel, stride, padding), in state_dict order
ALEXNET_CONVS = {0: (64, 3, 11, 4, 2), 3: (192, 64, 5, 1, 2), 6: (384, 192, 3, 1, 1), 8: (256, 384, 3, 1, 1),
                 10: (256, 256, 3, 1, 1)}
VGG16_CONVS = {i: (c_out, c_in, 3, 1, 1) for i, c_out, c_in in (
    (0, 64, 3), (2, 64, 64), (5, 128, 64), (7, 128, 128), (10, 256, 128), (12, 256, 256), (14, 256, 256),
    (17, 512, 256), (19, 512, 512), (21, 512, 512), (24, 512, 512), (26, 512, 512), (28, 512, 512))}
ALEXNET_POOLS = (2, 5)            # max pool 3/2 before features[3] and features[6] (features[12] is after relu5)
VGG16_POOLS = (4, 9, 16, 23)      # max pool 2/2
ALEXNET_TAPS = (0, 3, 6, 8, 10)   # conv index whose ReLU output is a tap (LPIPS relu1..relu5)
VGG16_TAPS = (2, 7, 14, 21, 28)   # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3


def conv_layout(convs: dict, prefix: str = "features") -> list:
    """[(key, shape, dtype)] of the convs' weight and bias, in torchvision's order."""
    out = []
    for i, (c_out, c_in, k, _, _) in convs.items():
        out += [(f"{prefix}.{i}.weight", (c_out, c_in, k, k), "float32"), (f"{prefix}.{i}.bias", (c_out,), "float32")]
    return out


def _features(keras, x, convs, pools, pool_size, pool_stride, taps, last):
    """Conv + ReLU per `convs` with max pools before the given indices; returns the ReLU outputs at `taps`."""
    outs = []
    for i in range(last + 1):
        if i in pools:
            x = keras.layers.MaxPooling2D(pool_size, pool_stride, "valid", name=f"features_{i}")(x)
        if i not in convs:
            continue
        c_out, _, k, stride, pad = convs[i]
        same = stride == 1 and pad == k // 2
        if not same and pad:
            x = keras.layers.ZeroPadding2D(pad, name=f"features_{i}_pad")(x)
        x = keras.layers.Conv2D(c_out, k, stride, "same" if same else "valid", activation="relu",
                                name=f"features_{i}")(x)
        if i in taps:
            outs.append(x)
    return outs


def alexnet_features(keras, x, through_pool5: bool = False):
    """torchvision AlexNet features on NHWC x: the five ReLU taps, or (through_pool5) [pool5] after features[12]."""
    taps = _features(keras, x, ALEXNET_CONVS, ALEXNET_POOLS, 3, 2, ALEXNET_TAPS, 10)
    if through_pool5:
        return [keras.layers.MaxPooling2D(3, 2, "valid", name="features_12")(taps[-1])]
    return taps


def vgg16_features(keras, x):
    """torchvision VGG16 features on NHWC x: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3."""
    return _features(keras, x, VGG16_CONVS, VGG16_POOLS, 2, 2, VGG16_TAPS, 28)


def convert_features(state: dict, convs: dict, prefix: str = "features") -> dict:
    """{features_N/kernel, features_N/bias} from a state_dict holding `{prefix}.N.weight / .bias`."""
    out = {}
    for i in convs:
        out[f"features_{i}/kernel"] = common.conv_kernel(state[f"{prefix}.{i}.weight"])
        out[f"features_{i}/bias"] = state[f"{prefix}.{i}.bias"].astype("float32")
    return out


__all__ = ["ALEXNET_CONVS", "VGG16_CONVS", "alexnet_features", "conv_layout", "convert_features", "vgg16_features"]
