"""The testbed wrapper reports a service that did not start in a line or two."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from testbed import Testbed, TestbedError

LOG_LINE = 'time="2026-12-03T16:00:00Z" level=info msg="daemon chatter {}"'


def test_a_service_that_fails_to_start_is_told_in_its_own_words_with_the_logs_path(
    tmp_path: Path,
) -> None:
    log = tmp_path / "registry.log"
    script = tmp_path / "registry-up"
    chatter = "\n".join(LOG_LINE.format(n) for n in range(20))
    script.write_text(
        "#!/bin/sh\n"
        f"echo 'testbed: the registry did not come up; see {log}' >&2\n"
        f"cat >&2 <<'EOF'\n{chatter}\nEOF\n"
        "exit 1\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(TestbedError) as raised:
        Testbed(tmp_path, {"TESTBED_LOG_DIR": str(tmp_path)})
    message = str(raised.value)
    assert message.splitlines() == [
        "registry-up failed",
        f"testbed: the registry did not come up; see {log}",
    ]
    assert "daemon chatter" not in message
