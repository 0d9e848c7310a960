"""Training: config, data preparation, loss, trainer, checkpoints, evaluation."""
from .checkpoint import model_from_checkpoint, read_checkpoint
from .config import TrainConfig, load_config

__all__ = ["TrainConfig", "load_config", "model_from_checkpoint", "read_checkpoint"]
