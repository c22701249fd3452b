"""Official PyTorch checkpoints -> lggan_tf.

`pth_reader` reads `.pth` state_dicts into NumPy without PyTorch (stdlib + NumPy only). Keep this file free of
TensorFlow imports so that `lggan_tf.convert.pth_reader` stays importable in a NumPy-only environment.
"""
