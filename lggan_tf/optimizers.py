"""Adam with one fused kernel per variable.

keras.optimizers.Adam.update_step writes Adam as ~37 graph ops per variable (casts, two powers of the step, the
bias-corrected rate, the moment updates, the step), and recomputes the step-dependent scalars for every variable:
for LGGAN++ that is over half of the traced G step (8,733 of 16,141 ops at the tests' tiny size), which costs
tracing time on every start and a kernel launch per op on a GPU. `FusedAdam` keeps Keras Adam's variables, state,
checkpoint layout, schedule and LossScaleOptimizer wrapping, computes the scalars once per `apply`, and updates
each variable with `tf.raw_ops.ResourceApplyAdam`, whose kernel evaluates Keras's formula in the same order:

    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2);  var -= m * alpha / (sqrt(v) + epsilon)

(tests/test_optimizers.py: equal to keras.optimizers.Adam within float32 rounding over several steps on one
device, and the same checkpoint; tests/trainer/test_distributed.py trains with it under MirroredStrategy). AMSGrad
and non-float32 variables fall back to Keras's update_step.
"""

from __future__ import annotations

import keras
import tensorflow as tf


class FusedAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam (same arguments, variables and results) with a fused per-variable update."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._fused_scalars = None  # (graph, {name: float32 scalar}) for the `apply` call in progress

    def apply(self, grads, trainable_variables=None):
        self._fused_scalars = None  # step-dependent: recomputed by the first update_step of this call
        try:
            return super().apply(grads, trainable_variables)
        finally:
            self._fused_scalars = None

    def _scalars(self, learning_rate) -> dict:
        graph = tf.compat.v1.get_default_graph()
        if self._fused_scalars is None or self._fused_scalars[0] is not graph:
            step = tf.cast(self.iterations + 1, tf.float32)
            beta_1, beta_2 = tf.constant(self.beta_1, tf.float32), tf.constant(self.beta_2, tf.float32)
            self._fused_scalars = (graph, {
                "lr": tf.cast(learning_rate, tf.float32), "beta1_power": tf.pow(beta_1, step),
                "beta2_power": tf.pow(beta_2, step), "beta1": beta_1, "beta2": beta_2,
                "epsilon": tf.constant(self.epsilon, tf.float32)})
        return self._fused_scalars[1]

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or tf.as_dtype(variable.dtype) != tf.float32:
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(var=variable.handle, m=self._momentums[index].handle,
                                     v=self._velocities[index].handle, grad=tf.cast(gradient, tf.float32),
                                     use_locking=False, **self._scalars(learning_rate))
