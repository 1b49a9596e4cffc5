"""A real workflow runner: act runs a two-job hand-off against the fake X API with the
Docker action (test_workflow_native.py: the native one).

The workflow is GitHub's life cycle: job 1 mints and seals, job 2 unseals, uses and
(in its post step) would revoke the token. Here act runs the image built from the
Dockerfile (`docker://xbearer:test`); tests/test_rehearsal.py runs the same
workflow on a released, digest-pinned image.
"""

from __future__ import annotations

from pathlib import Path

from actrun import assert_handoff, repo_copy, run_act
from conftest import BASE, Api


def test_two_job_handoff_under_act(image: str, api: Api, tmp_path: Path) -> None:
    def point_at_built_image(repo: Path) -> None:
        metadata = (repo / "action.yml").read_text()
        assert metadata.count("  image: Dockerfile\n") == 1
        (repo / "action.yml").write_text(
            metadata.replace("  image: Dockerfile\n", f"  image: docker://{image}\n")
        )

    repo = repo_copy(tmp_path / "repo", point_at_built_image)
    rc, log = run_act(repo, api, BASE)
    assert_handoff(rc, log, api)
