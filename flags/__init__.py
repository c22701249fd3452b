"""Command-line flag definitions and their conversion to the library's frozen configs (no TensorFlow imports here).

Import as `from flags import train_flags` (never `import flags`: the name clashes with `absl.flags`).
Per-dataset flagfiles `flags/<dataset>.cfg` hold the paper's settings: `python train.py --flagfile=flags/ade20k.cfg`.
"""
