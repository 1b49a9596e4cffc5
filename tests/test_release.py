"""Releases that runners pull: pin-image, the pinned base, the release workflow's shape."""

from __future__ import annotations

import functools
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ghrunner import ROOT

DIGEST = "sha256:" + "0123456789abcdef" * 4
ACTION = (ROOT / "action.yml").read_text()
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())


def _pin(
    tmp_path: Path, *args: str, text: str | bytes = ACTION
) -> subprocess.CompletedProcess[str]:
    raw = text if isinstance(text, bytes) else text.encode()
    (tmp_path / "action.yml").write_bytes(raw)
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
    assert result.returncode == 2 and "runs has no one-line `image:` value" in result.stderr
    assert (tmp_path / "action.yml").read_text() == no_image


RUNS = "runs:\n  using: docker\n  image: Dockerfile\n  post-entrypoint: /app/bin/post\n"
assert RUNS in ACTION


def _runs(block: str) -> str:
    return ACTION.replace(RUNS, block)


# Each is refused with status 2 and the file left as it was. The first two are the cases
# of issue 15: today's pin-image changed them and still exited 0.
LAYOUTS = {
    "flow runs (post-entrypoint was lost)": _runs(
        "runs: {\n  using: docker,\n  image: Dockerfile, post-entrypoint: /app/bin/post,\n}\n"
    ),
    "NEL in a quoted post-if (text in the string was rewritten)": _runs(
        'runs:\n  using: docker\n  "image": Dockerfile\n  post-entrypoint: /app/bin/post\n'
        '  post-if: "success()\x85  image: x #"\n'
    ),
    "NEL beside the real image": _runs(RUNS + '  post-if: "success()\x85  image: x #"\n'),
    "LS": ACTION.replace("API base URL", "API\u2028  image: x"),
    "PS": ACTION.replace("API base URL", "API\u2029  image: x"),
    "lone CR": ACTION.replace("API base URL", "API\r  image: x"),
    "CR at the very end": ACTION + "\r",
    "byte-order mark": "\ufeff" + ACTION,
    "tab": ACTION.replace("  using: docker", "  using:\tdocker"),
    "form feed": ACTION.replace("name: ", "name: \f"),
    "document marker": "---\n" + ACTION,
    "quoted image key": _runs(RUNS.replace("  image:", '  "image":')),
    "space before the colon": _runs(RUNS.replace("  image:", "  image :")),
    "image twice": _runs(RUNS + "  image: other\n"),
    "image on the next line": _runs(RUNS.replace("image: Dockerfile", "image:\n    Dockerfile")),
    "image continued on the next line": _runs(
        RUNS.replace("image: Dockerfile", "image: Docker\n    file")
    ),
    "comment indented under image": _runs(RUNS.replace("Dockerfile\n", "Dockerfile\n    # x\n")),
    "block scalar image": _runs(RUNS.replace("image: Dockerfile", "image: >-\n    Dockerfile")),
    "anchor and alias": _runs(
        RUNS.replace("Dockerfile", "&i Dockerfile").replace("/app/bin/post", "*i")
    ),
    "explicit indentation indicator": _runs(RUNS + "  post-if: |1\n   x\n"),
    "tag": _runs(RUNS.replace("image: Dockerfile", "image: !!str Dockerfile")),
    "flow sequence": _runs(RUNS + "  args: [a, b]\n"),
    "block sequence": _runs(RUNS + "  args:\n    - a\n"),
    "quoted scalar over two lines": _runs(RUNS + '  post-if: "success() &&\n    always()"\n'),
    "runs under another key": ACTION.replace(RUNS, "x:\n" + re.sub("^", "  ", RUNS, flags=re.M)),
    "image empty": _runs(RUNS.replace("image: Dockerfile", "image:")),
    "mixed indentation": _runs(RUNS.replace("  post-entrypoint", "   post-entrypoint")),
    "text after a quoted value": _runs(RUNS.replace("Dockerfile", "'Docker' file")),
    "': ' in a plain value": _runs(RUNS.replace("Dockerfile", "Docker: file")),
}


@pytest.mark.parametrize("text", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_pin_refuses_layouts_it_cannot_edit_safely(tmp_path: Path, text: str) -> None:
    result = _pin(tmp_path, f"ghcr.io/o/r@{DIGEST}", text=text)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("pin-image: refused, action.yml is unchanged: ")
    assert (tmp_path / "action.yml").read_bytes() == text.encode()


def test_pin_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    text = ACTION.encode().replace(b"name: X", b"name: \xff")
    result = _pin(tmp_path, f"ghcr.io/o/r@{DIGEST}", text=text)
    assert result.returncode == 2 and "it is not UTF-8" in result.stderr
    assert (tmp_path / "action.yml").read_bytes() == text


def _paths(node: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of a parsed document, in order."""
    items = node.items() if isinstance(node, dict) else []
    return [p for key, value in items for p in [(*prefix, key), *_paths(value, (*prefix, key))]]


# Layouts it edits: only runs.image changes, as PyYAML, an independent parser, reads it.
EDITED = {
    "action.yml": ACTION,
    "CRLF": ACTION.replace("\n", "\r\n"),
    "comments": _runs("runs: # the container\n" + RUNS[6:].replace("docker\n", "docker # x\n")),
    "single-quoted": _runs(RUNS.replace("Dockerfile", "'Docker''s file'")),
    "double-quoted with escapes": _runs(RUNS.replace("Dockerfile", '"Docker\\"file #\\\\"')),
    "an image key in a block scalar": ACTION.replace(
        "description: >-\n", "description: |\n  image: evil\n  runs:\n    image: evil\n", 1
    ),
    "nested deeper, blank lines": _runs(
        RUNS + "  env:\n\n      A: '1'\n      # c\n      B: x # y\n\n"
    ),
    "plain scalars with indicators inside": _runs(RUNS + "  post-if: -x && a:b, [c] {d} #e\n"),
}


@pytest.mark.parametrize("text", EDITED.values(), ids=EDITED.keys())
def test_pin_changes_runs_image_alone_as_a_yaml_parser_reads_it(tmp_path: Path, text: str) -> None:
    reference = f"ghcr.io/o/r@{DIGEST}"
    result = _pin(tmp_path, reference, text=text)
    assert result.returncode == 0, result.stderr
    pinned = (tmp_path / "action.yml").read_bytes().decode()
    before, after = yaml.safe_load(text), yaml.safe_load(pinned)
    assert after["runs"]["image"] == f"docker://{reference}"
    assert after == {**before, "runs": {**before["runs"], "image": f"docker://{reference}"}}
    assert _paths(pin_image().parse(text)) == _paths(before)  # it reads the same keys
    changed = [(a, b) for a, b in zip(text.split("\n"), pinned.split("\n"), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][0].lstrip().startswith("image:")


@functools.cache
def pin_image() -> ModuleType:
    """scripts/pin_image.py as a module."""
    spec = importlib.util.spec_from_file_location("pin_image", ROOT / "scripts" / "pin_image.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


# Lines of tricky YAML for the property below: keys, values with indicators, quotes,
# comments and block scalars, at several indentations.
_KEYS = st.sampled_from(["a", "image", "runs", "using", "post-if"])
_VALUES = st.sampled_from(
    [
        "x",
        "'q''s'",
        '"d\\"q #"',
        "x #c",
        "-x",
        ":x",
        "x:y",
        "x: y",
        "[a]",
        "&a x",
        "*a",
        "!t x",
        "|",
        ">-",
        "|+",
        "|2",
        "'open",
        '"a\\',
        "#c",
        "",
        "a, b",
        "?x",
        "'a' #c",
        "a #b: c",
        "a:#b",
        "'image: y'",
        "x\x85y",
        "x\ty",
    ]
)
_LINE = st.one_of(
    st.tuples(st.sampled_from([0, 2, 4, 1]), _KEYS, _VALUES).map(
        lambda t: f"{' ' * t[0]}{t[1]}:{' ' + t[2] if t[2] else ''}"
    ),
    st.sampled_from(["", "  # c", "    text", "  image: q", "  - a", "    k: v"]),
)
_RUNS = ["runs:", "  using: docker", "  image: Dockerfile # c"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(_LINE, max_size=8), st.lists(_LINE, max_size=4), st.booleans())
def test_whatever_it_reads_a_yaml_parser_reads_alike(
    head: list[str], tail: list[str], with_runs: bool
) -> None:
    text = "\n".join([*head, *(_RUNS if with_runs else []), *tail]) + "\n"
    module = pin_image()
    try:
        document = module.parse(text)
    except module.PinError:
        return  # refused: nothing is written
    parsed = yaml.safe_load(text)  # what it accepts, a YAML parser accepts too
    assert _paths(document) == _paths(parsed)
    reference = f"ghcr.io/o/r@{DIGEST}"
    try:
        pinned = module.pin(text, reference)
    except module.PinError:
        return
    image = {"image": f"docker://{reference}"}
    assert yaml.safe_load(pinned) == {**parsed, "runs": {**parsed["runs"], **image}}


PINNED = ACTION.replace("image: Dockerfile", f"image: docker://ghcr.io/o/r@{DIGEST}")
CHANGED_MORE = {
    "another value": PINNED.replace("/app/bin/post", "/bin/sh"),
    "a key dropped": PINNED.replace("  post-entrypoint: /app/bin/post\n", ""),
    "a key added": PINNED + "extra: x\n",
    "keys reordered": PINNED.replace(
        "  using: docker\n  image: docker://", "  image: docker://"
    ).replace(
        "post-entrypoint: /app/bin/post\n", "post-entrypoint: /app/bin/post\n  using: docker\n"
    ),
    "a quoted value requoted": PINNED.replace('default: "10"', "default: '10'"),
}


@pytest.mark.parametrize("after", CHANGED_MORE.values(), ids=CHANGED_MORE.keys())
def test_the_check_after_rewriting_refuses_any_other_difference(after: str) -> None:
    module = pin_image()
    reference = f"ghcr.io/o/r@{DIGEST}"
    module.check_only_image_changed(ACTION, PINNED, reference)  # the one difference: fine
    with pytest.raises(module.PinError, match=r"changed more than runs\.image"):
        module.check_only_image_changed(ACTION, after, reference)
    with pytest.raises(module.PinError, match="is not the reference"):
        module.check_only_image_changed(ACTION, ACTION, reference)


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


def _step(job: str, uses: str) -> dict[str, object]:
    return next(s for s in _steps(job) if str(s.get("uses", "")).startswith(uses))


def _index(job: str, text: str) -> int:
    """The position of the first step of job whose uses or run holds text."""
    return next(
        n for n, s in enumerate(_steps(job)) if text in str(s.get("uses", "")) + str(s.get("run"))
    )


def test_the_release_workflow_smoke_tests_before_it_tags_in_a_protected_job() -> None:
    assert WORKFLOW["permissions"] == {}
    jobs = WORKFLOW["jobs"]
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "check": {"contents": "read", "actions": "read"},
        # The job that runs the privileged QEMU and BuildKit images can push by
        # digest, and nothing more: no OIDC token, no tags, no attestation.
        "image": {"contents": "read", "packages": "write"},
        "release": {
            "contents": "write",
            "packages": "write",
            "id-token": "write",
            "attestations": "write",
        },
    }
    assert [name for name, job in jobs.items() if "environment" in job] == ["release"]
    assert jobs["release"]["environment"] == "release"
    assert jobs["release"]["needs"] == ["check", "image"]
    check = " ".join(str(s.get("run", "")) for s in _steps("check"))
    assert 'python3 scripts/release_version.py "$VERSION" >>"$GITHUB_OUTPUT"' in check
    assert "environments/release" in check and "required_reviewers" in check

    build = _step("image", "docker/build-push-action")["with"]
    assert isinstance(build, dict)
    assert build["platforms"] == "linux/amd64,linux/arm64" and "push" not in build
    assert build["target"] == "release"  # only what runs; main builds the plain default
    assert build["tags"] == "${{ steps.name.outputs.image }}"  # a name, no tag
    assert build["outputs"] == "type=image,push-by-digest=true,name-canonical=true,push=true"
    smoke = _steps("image")[_index("image", "smoke_image.py")]
    assert _index("image", "smoke_image.py") == len(_steps("image")) - 1  # last, after the build
    assert smoke["env"] == {
        "IMAGE": "${{ steps.name.outputs.image }}@${{ steps.build.outputs.digest }}"
    }
    assert "for platform in linux/amd64 linux/arm64; do" in str(smoke["run"])
    assert 'scripts/smoke_image.py "$IMAGE" --platform "$platform"' in str(smoke["run"])
    image_job = " ".join(str(s.get("run", "")) for s in _steps("image"))
    assert "imagetools" not in image_job and "git push" not in image_job

    qemu = _step("image", "docker/setup-qemu-action")["with"]
    assert isinstance(qemu, dict)
    assert re.fullmatch(r"docker\.io/tonistiigi/binfmt:[\w.-]+@sha256:[0-9a-f]{64}", qemu["image"])
    assert qemu["platforms"] == "arm64" and qemu["cache-image"] is False
    buildx = _step("image", "docker/setup-buildx-action")["with"]
    assert isinstance(buildx, dict)
    assert re.fullmatch(
        r"image=docker\.io/moby/buildkit:v[\d.]+@sha256:[0-9a-f]{64}", buildx["driver-opts"]
    )

    attest = _step("release", "actions/attest-build-provenance")
    assert attest["with"] == {
        "subject-name": "${{ needs.image.outputs.image }}",
        "subject-digest": "${{ needs.image.outputs.digest }}",
        "push-to-registry": True,
        "create-storage-record": False,
    }
    release = " ".join(str(s.get("run", "")) for s in _steps("release"))
    assert 'scripts/pin-image "$IMAGE"' in release
    assert 'test "$(git diff --name-only)" = action.yml' in release
    assert 'python3 scripts/release_version.py "$VERSION" >/dev/null' in release
    assert (
        '-t "$IMAGE:v$VERSION" -t "$IMAGE:v$MINOR" -t "$IMAGE:v$MAJOR" "$IMAGE@$DIGEST"' in release
    )
    assert "release_notes.py" in release and "gh release create" in release
    order = [
        _index("release", "scripts/pin-image"),
        _index("release", "attest-build-provenance"),
        _index("release", "imagetools create"),
        _index("release", "git push"),
        _index("release", "gh release create"),
    ]
    assert order == sorted(order)


def test_every_third_party_action_is_pinned_by_commit() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    uses = [
        line.split("uses:", 1)[1].strip()
        for path in workflows
        for line in path.read_text().splitlines()
        if "uses:" in line
    ]
    third_party = [use for use in uses if not use.startswith("./")]  # this repository's own
    assert third_party
    for use in third_party:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", use), use


def test_main_builds_from_source() -> None:
    assert yaml.safe_load(ACTION)["runs"]["image"] == "Dockerfile"
