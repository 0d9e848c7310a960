"""Learning-rate schedules that are a function of the epoch alone (so --resume is exact).

`plateau` (the default) is torch's ReduceLROnPlateau, driven by the trainer.  `cosine` decays
from optim.lr at epoch 0 to optim.min_lr at max_epochs; when stage two sets stage_two_lr, a
second cosine runs from that rate at stage_two_epoch down to min_lr at max_epochs, and with
stage_two_lr null the first cosine carries on through stage two."""
from __future__ import annotations

import math
from typing import Optional

SCHEDULERS = ("plateau", "cosine")


def cosine_lr(optim, epoch: int) -> Optional[float]:
    """The rate of 0-based `epoch` under optim.scheduler `cosine`; None for `plateau`."""
    if optim.scheduler != "cosine":
        return None
    start, peak = 0, optim.lr
    if optim.stage_two_epoch is not None and epoch >= optim.stage_two_epoch and optim.stage_two_lr is not None:
        start, peak = optim.stage_two_epoch, optim.stage_two_lr
    span = max(optim.max_epochs - start, 1)
    progress = min(max(epoch - start, 0) / span, 1.0)
    return optim.min_lr + (peak - optim.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def check_lr_override(optim) -> None:
    """`--lr` (Trainer.set_lr) sets a rate the plateau scheduler then goes on from; a schedule
    that sets the rate every epoch would silently undo it, so it is refused there."""
    if optim.scheduler != "plateau":
        raise ValueError(f"setting the learning rate works with optim.scheduler plateau; the "
                         f"{optim.scheduler} schedule sets it every epoch from optim.lr, "
                         f"min_lr and stage_two_lr")
