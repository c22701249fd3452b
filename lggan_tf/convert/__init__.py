"""Official PyTorch checkpoints -> lggan_tf.

`pth_reader` reads `.pth` state_dicts into NumPy without PyTorch (stdlib + NumPy only). Keep this file free of
TensorFlow imports so that `lggan_tf.convert.pth_reader` stays importable in a NumPy-only environment.
`python -m lggan_tf.convert --pytorch_checkpoint latest_net_G.pth --model lggan --dataset cityscapes
--model_dir runs/official-lggan-cityscapes` writes a run directory; the library entry points are in `run_writer`
(mappings: `mapping_common`, `mapping_sis`, `mapping_cross_view`).
"""
