"""Official semantic-image-synthesis checkpoints -> our layers: LGGAN SIS (`LGGANGenerator` of Ha0Tang/LGGAN SIS/,
Cityscapes and ADE20K files), SPADE/GauGAN (`SPADEGenerator`, `ConvEncoder`) and the `MultiscaleDiscriminator`.

Official key layout (lggan_official_code.md §1.4, spade_official_code.md §1-2):
  conv1..conv5                      encoder E                      -> encoder.conv<i>.conv
  head_0, G_middle_0/1, up_0..up_4  SPADE residual blocks (G_g)    -> global_generator.<block> (GauGAN: decoder)
  conv_img                          last conv of G_g               -> .conv_img
  resnet_blocks1..9.conv1/conv2     G_l residual blocks            -> local_res_<i-1>.conv_0/conv_1
  deconv3_local, deconv4_local      G_l ConvTranspose2d ups        -> local_up_0/1
  deconv5_0..deconv5_{N-1}          class sub-generators (Eq. (2)) -> class_generators (stacked kernel)
  deconv9                           local fusion conv (Eq. (5))    -> local_fusion_conv.fusion_conv
  fc2                               classifier (Eq. (6))           -> classifier.fc
  deconv3/4/5_attention             G_w (Eq. (7))                  -> weight_up_0/1, weight_conv
  fc                                LGGAN: built, never used        -> dead weight (skipped, counted)
"""

from __future__ import annotations

import numpy as np

from lggan_tf.convert.mapping_common import StateConsumer


def map_spade_block(c: StateConsumer, prefix: str, block) -> None:
    """SPADEResnetBlock: spectral conv_0/conv_1 (bias), conv_s (no bias), SPADE norm_0/norm_1/norm_s."""
    c.spectral_conv(f"{prefix}.conv_0", block.conv_0)
    c.spectral_conv(f"{prefix}.conv_1", block.conv_1)
    norms = ["norm_0", "norm_1"]
    if block.learned_shortcut:
        c.spectral_conv(f"{prefix}.conv_s", block.conv_s, bias=False)
        norms.append("norm_s")
    for norm in norms:
        spade, p = getattr(block, norm), f"{prefix}.{norm}"
        c.batch_norm_stats(f"{p}.param_free_norm", spade.norm)
        c.conv(f"{p}.mlp_shared.0", spade.mlp_shared)
        c.conv(f"{p}.mlp_gamma", spade.mlp_gamma)
        c.conv(f"{p}.mlp_beta", spade.mlp_beta)


def map_spade_decoder(c: StateConsumer, decoder) -> None:
    for name in decoder.block_names:
        map_spade_block(c, name, getattr(decoder, name))
    c.conv("conv_img", decoder.conv_img)


def map_lggan_generator(c: StateConsumer, g) -> None:
    """Official LGGAN SIS generator (Cityscapes or ADE20K files) -> LGGANGenerator."""
    for i in range(1, 6):
        c.conv(f"conv{i}", getattr(g.encoder, f"conv{i}").conv)
    map_spade_decoder(c, g.global_generator)
    c.skip_dead("fc.weight", "fc.bias")  # the SPADE 'fc' (semantic_nc -> 16 ngf) is built but unused
    c.resnet_blocks(getattr(g, f"local_res_{i}") for i in range(g.num_resblocks))
    c.deconv("deconv3_local", g.local_up_0.up)
    c.deconv("deconv4_local", g.local_up_1.up)
    c.stacked_convs([f"deconv5_{i}" for i in range(g.num_local_classes)], g.class_generators)
    if g.local_fusion == "conv":
        c.conv("deconv9", g.local_fusion_conv.fusion_conv)
    if g.use_classifier:
        c.linear("fc2", g.classifier.fc)
    if g.use_weight_map:
        c.deconv("deconv3_attention", g.weight_up_0.up)
        c.deconv("deconv4_attention", g.weight_up_1.up)
        c.conv("deconv5_attention", g.weight_conv)


def nchw_to_nhwc_index(channels: int, height: int, width: int) -> np.ndarray:
    """perm such that flat_nhwc[j] = flat_nchw[perm[j]] (our [H, W, C] flattening vs PyTorch's [C, H, W])."""
    return np.arange(channels * height * width).reshape(channels, height, width).transpose(1, 2, 0).reshape(-1)


def map_vae_encoder(c: StateConsumer, encoder) -> None:
    """SPADE ConvEncoder (latest_net_E.pth): spectral conv layer1..6 without bias, fc_mu / fc_var on the NCHW
    flattening of [8 nef, 4, 4] (ours flattens [4, 4, 8 nef])."""
    for i in range(1, encoder.num_convs + 1):
        c.spectral_conv(f"layer{i}.0", getattr(encoder, f"layer{i}"), bias=False)
    last = getattr(encoder, f"layer{encoder.num_convs}")
    s = encoder.input_size // 2 ** encoder.num_convs
    perm = nchw_to_nhwc_index(last.filters, s, s)
    c.linear("fc_mu", encoder.fc_mu, in_permutation=perm)
    c.linear("fc_var", encoder.fc_var, in_permutation=perm)


def map_gaugan_generator(c: StateConsumer, g) -> None:
    """Official SPADEGenerator -> GauGANGenerator: `fc` is the 3x3 conv on the downsampled label map, or with the
    VAE the Linear z -> 16 nf * sh * sw, whose output is viewed as NCHW [16 nf, sh, sw] (ours: NHWC)."""
    if g.use_vae:
        sh, sw = g.latent_hw
        c.linear("fc", g.fc, out_permutation=nchw_to_nhwc_index(16 * g.ngf, sh, sw))
    else:
        c.conv("fc", g.fc)
    map_spade_decoder(c, g.decoder)


def map_multiscale_discriminator(c: StateConsumer, d) -> None:
    """SPADE MultiscaleDiscriminator: discriminator_<i>.model0.0 (conv, bias), model1..3.0.0 (spectral conv, no
    bias; InstanceNorm without parameters), model4.0 (conv, bias) -> d_<i>.conv_0..conv_3, conv_out."""
    for i in range(d.num_d):
        patch, p = getattr(d, f"d_{i}"), f"discriminator_{i}"
        c.conv(f"{p}.model0.0", patch.conv_0)
        for n in range(1, patch.num_convs - 1):
            conv = getattr(patch, f"conv_{n}")
            if patch.spectral:
                c.spectral_conv(f"{p}.model{n}.0.0", conv, bias=patch.norm_bias)
            else:
                c.conv(f"{p}.model{n}.0", conv, bias=patch.norm_bias)
        c.conv(f"{p}.model{patch.num_convs - 1}.0", patch.conv_out)
