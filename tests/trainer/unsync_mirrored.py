"""A deliberately broken variant for tests/trainer/test_distributed.py: the tiny 2-step run on 2 logical CPUs with
SPADE's batch norm *not* synchronised across the replicas (each replica normalises its own half of the batch).

    python -m tests.trainer.unsync_mirrored MODEL_DIR
"""

import sys

from lggan_tf.strategy import configure_logical_cpus

if __name__ == "__main__":
    configure_logical_cpus(2)  # before any TensorFlow op
    from lggan_tf import trainer
    from lggan_tf.layers import norms
    from tests.trainer.conftest import tiny_config

    synchronised_init = norms.BatchNorm.__init__

    def unsynchronised_init(self, *args, **kwargs):
        synchronised_init(self, *args, **kwargs)
        self.synchronized = False

    norms.BatchNorm.__init__ = unsynchronised_init
    result = trainer.train(tiny_config(sys.argv[1], train_steps=2, strategy="mirrored"))
    print(result.message, flush=True)
