"""Official PyTorch checkpoints (LGGAN SIS and cross-view, SPADE/GauGAN) -> lggan-tf run directories.

`python -m lggan_tf.convert --pytorch_checkpoint latest_net_G.pth --model lggan --dataset cityscapes
--model_dir runs/official-lggan-cityscapes`; the library entry points are in `run_writer`.
"""
