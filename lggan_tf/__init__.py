"""lggan_tf: LGGAN / LGGAN++ (Tang, Shao, Torr, Sebe) in TensorFlow 2 / Keras 3."""

__version__ = "0.1.0"
