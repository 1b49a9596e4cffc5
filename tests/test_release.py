"""Releases that runners pull: pin-image, the pinned base, the release workflow's shape."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ghrunner import ROOT

DIGEST = "sha256:" + "0123456789abcdef" * 4
ACTION = (ROOT / "action.yml").read_text()
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())


def _pin(tmp_path: Path, *args: str, text: str = ACTION) -> subprocess.CompletedProcess[str]:
    (tmp_path / "action.yml").write_text(text, newline="")
    return subprocess.run(
        [str(ROOT / "scripts" / "pin-image"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    "reference",
    [
        f"ghcr.io/owner/repo@{DIGEST}",
        f"ghcr.io/owner/repo:v1.2.3@{DIGEST}",
        f"127.0.0.1:5000/xbearer/action@{DIGEST}",
        f"localhost:5000/a_b/c--d.e@{DIGEST}",
        f"python@{DIGEST}",
    ],
)
def test_pin_rewrites_runs_image_and_nothing_else(tmp_path: Path, reference: str) -> None:
    result = _pin(tmp_path, reference)
    assert result.returncode == 0, result.stderr
    pinned = (tmp_path / "action.yml").read_text()
    before, after = ACTION.splitlines(keepends=True), pinned.splitlines(keepends=True)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("  image: Dockerfile\n", f"  image: docker://{reference}\n")]
    assert yaml.safe_load(pinned)["runs"] == {
        **yaml.safe_load(ACTION)["runs"],
        "image": f"docker://{reference}",
    }
    schema = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-actions",
            str(tmp_path / "action.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr


def test_pin_again_replaces_the_digest_and_keeps_comments_and_line_endings(tmp_path: Path) -> None:
    text = ACTION.replace("  image: Dockerfile\n", "  image: 'Dockerfile' # built by runners\n")
    text = text.replace("\n", "\r\n")
    assert _pin(tmp_path, f"ghcr.io/o/r@{DIGEST}", text=text).returncode == 0
    again = "sha256:" + "f" * 64
    result = subprocess.run(
        [str(ROOT / "scripts" / "pin-image"), f"ghcr.io/o/r@{again}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    pinned = (tmp_path / "action.yml").read_bytes().decode()
    assert f"  image: docker://ghcr.io/o/r@{again} # built by runners\r\n" in pinned
    assert pinned.replace(f"docker://ghcr.io/o/r@{again}", "'Dockerfile'") == text


REFUSED = {
    "tag only": "ghcr.io/owner/repo:v1",
    "no tag, no digest": "ghcr.io/owner/repo",
    "short digest": "ghcr.io/owner/repo@sha256:" + "a" * 63,
    "long digest": "ghcr.io/owner/repo@sha256:" + "a" * 65,
    "wrong algorithm": "ghcr.io/owner/repo@sha512:" + "a" * 128,
    "upper-case hex": "ghcr.io/owner/repo@sha256:" + "A" * 64,
    "upper-case repository": f"ghcr.io/Owner/repo@{DIGEST}",
    "space inside": f"ghcr.io/owner/repo @{DIGEST}",
    "trailing space": f"ghcr.io/owner/repo@{DIGEST} ",
    "newline injection": f"ghcr.io/owner/repo@{DIGEST}\n  post-entrypoint: /bin/sh",
    "trailing newline": f"ghcr.io/owner/repo@{DIGEST}\n",
    "docker:// prefix": f"docker://ghcr.io/owner/repo@{DIGEST}",
    "comment injection": f"ghcr.io/owner/repo@{DIGEST} # x",
    "empty": "",
}


@pytest.mark.parametrize("reference", REFUSED.values(), ids=REFUSED.keys())
def test_pin_refuses_anything_but_a_digest_reference(tmp_path: Path, reference: str) -> None:
    result = _pin(tmp_path, reference)
    assert result.returncode == 2
    assert "is not an image reference with a sha256 digest" in result.stderr
    assert (tmp_path / "action.yml").read_text() == ACTION


def test_pin_usage_and_a_file_without_runs_image(tmp_path: Path) -> None:
    assert _pin(tmp_path).returncode == 2
    assert _pin(tmp_path, f"a@{DIGEST}", f"b@{DIGEST}").returncode == 2
    no_image = ACTION.replace("  image: Dockerfile\n", "")
    result = _pin(tmp_path, f"ghcr.io/o/r@{DIGEST}", text=no_image)
    assert result.returncode == 1 and "exactly one block-style runs.image" in result.stderr
    assert (tmp_path / "action.yml").read_text() == no_image


def test_the_base_is_pinned_by_digest_where_dependabot_reads_it() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (base,) = re.findall(r"^ARG BASE=(\S+)$", dockerfile, re.M)
    assert re.fullmatch(r"python:3\.13-slim@sha256:[0-9a-f]{64}", base)
    watched = (ROOT / ".github" / "base-image" / "Dockerfile").read_text()
    assert re.findall(r"^FROM (\S+)$", watched, re.M) == [base], (
        "Dependabot bumped .github/base-image/Dockerfile: put the same reference in the "
        "Dockerfile's ARG BASE"
    )
    dependabot = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert {"package-ecosystem": "docker", "directory": "/.github/base-image"}.items() <= next(
        u for u in dependabot["updates"] if u["package-ecosystem"] == "docker"
    ).items()


def test_release_notes_come_from_the_changelog(tmp_path: Path) -> None:
    shutil.copy(ROOT / "scripts" / "release_notes.py", tmp_path)
    (tmp_path / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [Unreleased]\n\n## [1.2.0] - 2026-12-01\n\n### Added\n- thing\n\n"
        "## [1.1.0] - 2026-11-01\n\n- old\n\n[1.2.0]: https://example.com\n"
    )

    def notes(version: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "release_notes.py", version],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )

    assert notes("1.2.0").stdout == "### Added\n- thing\n"
    assert notes("1.1.0").stdout == "- old\n"
    missing = notes("1.3.0")
    assert missing.returncode == 1 and "no notes under '## [1.3.0]'" in missing.stderr
    assert notes("v1.2").returncode == 2


def _steps(job: str) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = WORKFLOW["jobs"][job]["steps"]
    return steps


def test_the_release_workflow_builds_both_platforms_attests_and_pins() -> None:
    assert WORKFLOW["permissions"] == {}
    jobs = WORKFLOW["jobs"]
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "check": {"contents": "read"},
        "image": {
            "contents": "read",
            "packages": "write",
            "id-token": "write",
            "attestations": "write",
        },
        "release": {"contents": "write"},
    }
    build = next(s for s in _steps("image") if str(s.get("uses", "")).startswith("docker/build"))
    with_ = build["with"]
    assert isinstance(with_, dict)
    assert with_["platforms"] == "linux/amd64,linux/arm64" and with_["push"] is True
    assert [t.split("}}:", 1)[1] for t in with_["tags"].splitlines()] == [
        "v${{ inputs.version }}",
        "v${{ needs.check.outputs.minor }}",
        "v${{ needs.check.outputs.major }}",
    ]
    attest = next(s for s in _steps("image") if "attest-build-provenance" in str(s.get("uses")))
    assert attest["with"] == {
        "subject-name": "${{ steps.name.outputs.image }}",
        "subject-digest": "${{ steps.build.outputs.digest }}",
        "push-to-registry": True,
        "create-storage-record": False,
    }
    script = " ".join(str(s.get("run", "")) for s in _steps("release"))
    assert 'scripts/pin-image "$IMAGE"' in script
    assert 'test "$(git diff --name-only)" = action.yml' in script
    assert "release_notes.py" in script and "gh release create" in script


def test_every_third_party_action_is_pinned_by_commit() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    uses = [
        line.split("uses:", 1)[1].strip()
        for path in workflows
        for line in path.read_text().splitlines()
        if "uses:" in line
    ]
    assert uses
    for use in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", use), use


def test_main_builds_from_source() -> None:
    assert yaml.safe_load(ACTION)["runs"]["image"] == "Dockerfile"
