"""The paper's evaluation networks as Keras models with converters from the published PyTorch weights.

NETWORKS maps a name to its module (build / convert_state_dict / save_converted / load_converted / PROTOCOL).
"""

from lggan_tf.metrics.nets import drn

NETWORKS = {
    "drn_d_105": drn,
}
