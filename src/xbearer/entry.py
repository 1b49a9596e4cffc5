"""How a step of the action starts: the container's entry points (src/bin) and the
native action's main step (native.py) call `run`.

The garbage collector is off while the modules load, and what they made is then
frozen out of its view: a run makes little garbage, and every collection, the one at
exit among them, would otherwise walk all of it (about 14 ms of CPU a run, measured in the
container from outside the process, with and without it).
"""

from __future__ import annotations

import gc
import os
from typing import Literal


def run(step: Literal["main", "post"]) -> int:
    """Load the action, then run its main or its post step; the exit status."""
    gc.disable()
    from actions_toolkit import core

    from . import action

    gc.freeze()
    gc.enable()
    return (action.main if step == "main" else action.post)(core, os.environ)
