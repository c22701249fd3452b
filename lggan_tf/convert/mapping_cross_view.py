"""Official cross-view checkpoints -> our layers: `ResnetGenerator_local` (Ha0Tang/LGGAN CV/, what
`define_G(6, 3, ngf, 'local')` builds) and the pix2pix `NLayerDiscriminator(6, ndf, n_layers=3, InstanceNorm with
running statistics, sigmoid)` used for D_i (latest_net_D1) and D_s (latest_net_D2).

  conv1, conv2, conv3                       encoder                -> enc_0, enc_1, enc_2 (.conv)
  resnet_blocks1..9.conv1/conv2             residual blocks        -> res_<i-1>.conv_0/conv_1
  deconv3/4_local, deconv5_1..deconv5_6     G_l ups, 6 class convs -> local_up_0/1, class_generators
  deconv5_7                                 a 7th class conv, unused by forward -> dead weight (skipped, counted)
  deconv3/4/5_global                        G_g                    -> global_up_0/1, global_conv
  deconv3/4/5_attention                     G_w                    -> weight_up_0/1, weight_conv
  D model.0 / model.{2,5,8} + IN model.{3,6,9} / model.11 -> conv_0 / conv_1..3 + norm_1..3 / conv_out
"""

from __future__ import annotations

from lggan_tf.convert.mapping_common import StateConsumer


def map_cross_view_generator(c: StateConsumer, g) -> None:
    for i, name in enumerate(("enc_0", "enc_1", "enc_2")):
        c.conv(f"conv{i + 1}", getattr(g, name).conv)
    c.resnet_blocks(getattr(g, f"res_{i}") for i in range(g.num_resblocks))
    c.deconv("deconv3_global", g.global_up_0.up)
    c.deconv("deconv4_global", g.global_up_1.up)
    c.conv("deconv5_global", g.global_conv)
    if g.has_local:
        c.deconv("deconv3_local", g.local_up_0.up)
        c.deconv("deconv4_local", g.local_up_1.up)
        c.stacked_convs([f"deconv5_{i + 1}" for i in range(g.num_classes)], g.class_generators)
        c.skip_dead(f"deconv5_{g.num_classes + 1}.weight", f"deconv5_{g.num_classes + 1}.bias")
        if g.use_weight_map:
            c.deconv("deconv3_attention", g.weight_up_0.up)
            c.deconv("deconv4_attention", g.weight_up_1.up)
            c.conv("deconv5_attention", g.weight_conv)


def map_patch_discriminator(c: StateConsumer, d) -> None:
    """NLayerDiscriminator `model.<j>` (Sequential indices: conv, [IN,] LeakyReLU) -> PatchDiscriminator."""
    c.conv("model.0", d.conv_0)
    index = 2
    for n in range(1, d.num_convs - 1):
        c.conv(f"model.{index}", getattr(d, f"conv_{n}"), bias=d.norm_bias)
        norm = getattr(d, f"norm_{n}")
        if getattr(norm, "track_running_stats", False):
            c.batch_norm_stats(f"model.{index + 1}", norm)
        index += 3
    c.conv(f"model.{index}", d.conv_out)
