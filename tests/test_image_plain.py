"""The default image, which every job on `@main` (or on a commit) builds: every way the
action runs works in it, and compiles nothing there. The same modes as in the release
image (test_image.py), which is cut down from this one; what only the release image
promises (no shell, only what runs) is tested there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from image_modes import MODES, compiled_at_run_time


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_runs_and_compiles_nothing_in_the_default_image(
    mode: str, image: str, ca: trustme.CA, tmp_path: Path
) -> None:
    compiled = compiled_at_run_time(mode, ca, tmp_path, image)
    assert not compiled, f"{mode}: compiled at run time: {compiled}"
