"""`medvie pretrain-tiny`: teach the embedded tiny Qwen2.5-VL the task on synthetic report pages.

`config` holds the settings, `data` makes examples and batches, `loop` is the whole training loop
(checkpoint, resume, evaluate, export), `evaluate` and `export` what happens at a checkpoint.
"""

from medvie.training.pretrain.config import PretrainConfig
from medvie.training.pretrain.loop import pretrain

__all__ = ["PretrainConfig", "pretrain"]
