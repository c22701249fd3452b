"""Keras 3 layers (NHWC) for LGGAN / LGGAN++."""
