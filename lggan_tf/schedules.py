"""Optimiser settings of the official SIS trainer (lggan_official_code.md §1.2, §1.6; SPADE `pix2pix_trainer.py`).

TTUR (default): Adam(beta1=0, beta2=0.9), lr_G = lr / 2, lr_D = 2 lr. Without TTUR: Adam(beta1, beta2), both lr.
Schedule: constant for `niter` epochs, then the base rate drops by lr / niter_decay after every further epoch, so it
reaches 0 after niter + niter_decay epochs (the G/D split is re-applied to the decayed rate).
"""

from __future__ import annotations

import dataclasses

TTUR_BETAS = (0.0, 0.9)
ADAM_EPSILON = 1e-8  # PyTorch's default (Keras' is 1e-7)


@dataclasses.dataclass(frozen=True)
class OptimizerSettings:
    lr_g: float
    lr_d: float
    beta1: float
    beta2: float


def lr_factor(epoch: int, niter: int, niter_decay: int) -> float:
    """Multiplier of the base rate during 0-based `epoch`: 1 for epoch < niter + 1, then linear to 0.

    The official trainer updates the rate at the end of 1-based epoch e > niter, so 0-based epoch k runs at
    1 - max(0, k - niter) / niter_decay (clipped at 0; with niter_decay = 0 it stays 1).
    """
    if niter_decay <= 0:
        return 1.0
    return max(0.0, 1.0 - max(0, int(epoch) - int(niter)) / float(niter_decay))


def optimizer_settings(lr: float, beta1: float, beta2: float, ttur: bool, epoch: int = 0, niter: int = 0,
                       niter_decay: int = 0) -> OptimizerSettings:
    """Learning rates (at `epoch`) and Adam betas for G and D."""
    base = lr * lr_factor(epoch, niter, niter_decay)
    if ttur:
        return OptimizerSettings(base / 2.0, base * 2.0, *TTUR_BETAS)
    return OptimizerSettings(base, base, beta1, beta2)
