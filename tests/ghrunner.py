"""Run the action as GitHub's runner does, and read what it left as the runner would.

- `run()` starts the entry point (a local subprocess, or the built image with the
  runner's mounts and variables), with INPUT_* variables and file-command files;
  `run_composite()` runs a composite action's steps (the native action's) as the
  runner does: its inputs' expressions evaluated, each step a bash script;
  `run_in_process()` calls the main step's function here with the same variables and
  files, for the cases that differ only in an input's value (no process start).
- `parse_file_command()` reads GITHUB_OUTPUT/ENV/STATE with the runner's rules.
- `shown()` replays the log: `::add-mask::` takes effect from its line on,
  `secrets.*` inputs are masked from the start, command data is unescaped.
- `assert_no_leak()` is the leak scanner every test that runs the action uses: the log
  as shown, the job summary and every output but `bearer`.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

ROOT = Path(__file__).resolve().parent.parent
FILE_COMMANDS = ("OUTPUT", "ENV", "STATE", "STEP_SUMMARY")
SECRET_INPUTS = (
    "api-key",
    "api-secret",
    "passphrase",
    "access-token",
    "access-token-secret",
    "refresh-token",
    "client-secret",
    "github-token",
)
_COMMAND = re.compile(r"::([A-Za-z-]+)(?: [^:]*)?::(.*)")
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
BASH = shutil.which("bash") or "/bin/bash"  # found before a test narrows PATH


@dataclass
class Run:
    """What one step left behind."""

    rc: int
    log: str
    files: dict[str, str]
    inputs: dict[str, str]
    action_outputs: dict[str, str] | None = None  # a composite action's, as it declares them

    @property
    def outputs(self) -> dict[str, str]:
        return parse_file_command(self.files["OUTPUT"])

    @property
    def env(self) -> dict[str, str]:
        return parse_file_command(self.files["ENV"])

    @property
    def state(self) -> dict[str, str]:
        return parse_file_command(self.files["STATE"])

    @property
    def summary(self) -> str:
        return self.files["STEP_SUMMARY"]

    def annotations(self, kind: str) -> list[str]:
        return [data for cmd, data in commands(self.log) if cmd == kind]


def run(
    inputs: Mapping[str, str],
    *,
    post: bool = False,
    state: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    image: str | None = None,
    workspace: Path | None = None,
    timeout: float = 120,
    missing: Iterable[str] = (),
    command: Sequence[str] = (),
    under: str = "",
    hosts: Mapping[str, str] | None = None,
    docker_args: Sequence[str] = (),
    during: Callable[[subprocess.Popen[bytes]], None] | None = None,
    keep: str = "",
) -> Run:
    """Run the main (or post) step with these inputs; the log holds stdout and stderr in order.

    `missing` names file-command files (e.g. "ENV") that the runner failed to create;
    `during` is called with the running process (to signal it, say) before its end is
    awaited. In an image, `command` (an executable, then its arguments) runs instead of
    the entry point, `under` mounts the runner's directories there too (for a chroot),
    `hosts` (name: address) are added to the container's /etc/hosts, and `docker_args`
    go to `docker run`; with `keep`, the container is named so and kept after it exits
    (for `docker diff`; the caller removes it).
    """
    with tempfile.TemporaryDirectory() as tmp:
        commands_dir = Path(tmp)
        names = {kind: f"{kind.lower()}_file" for kind in FILE_COMMANDS}
        for kind, name in names.items():
            if kind not in missing:
                (commands_dir / name).touch()
        variables = {f"INPUT_{k.upper()}": v for k, v in inputs.items()}
        variables.update({f"STATE_{k}": v for k, v in (state or {}).items()})
        variables.update(env or {})
        ws = workspace or ROOT
        if image:
            inside = {f"GITHUB_{k}": f"/github/file_commands/{n}" for k, n in names.items()}
            variables.update(
                inside, GITHUB_WORKSPACE="/github/workspace", GITHUB_ACTIONS="true", CI="true"
            )
            cmd = [
                "docker",
                "run",
                *(["--name", keep] if keep else ["--rm"]),
                "--network",
                "host",
                "--workdir",
                "/github/workspace",
                "-v",
                f"{commands_dir}:/github/file_commands",
                "-v",
                f"{ws}:/github/workspace",
            ]
            if under:
                cmd += ["-v", f"{commands_dir}:{under}/github/file_commands"]
                cmd += ["-v", f"{ws}:{under}/github/workspace"]
            for name, address in (hosts or {}).items():
                cmd += ["--add-host", f"{name}:{address}"]
            for name in variables:
                cmd += ["-e", name]
            cmd += docker_args
            if command:
                cmd += ["--entrypoint", command[0], image, *command[1:]]
            else:
                cmd += ["--entrypoint", "/app/bin/post"] if post else []
                cmd.append(image)
            child_env = {**os.environ, **variables}
            cwd = ROOT
        else:
            variables.update({f"GITHUB_{k}": str(commands_dir / n) for k, n in names.items()})
            variables.update(GITHUB_WORKSPACE=str(ws))
            cmd = [sys.executable, str(ROOT / "src" / "bin" / ("post" if post else "main"))]
            child_env = {**host_env(), "PYTHONPATH": str(ROOT / "src"), **variables}
            cwd = ws
        rc, stdout = _started(cmd, child_env, cwd, during, timeout)
        files = {
            k: (commands_dir / n).read_text() if (commands_dir / n).exists() else ""
            for k, n in names.items()
        }
    return Run(rc, stdout.decode("utf-8", "replace"), files, dict(inputs))


def _started(
    command: Sequence[str],
    env: Mapping[str, str],
    cwd: str | Path,
    during: Callable[[subprocess.Popen[bytes]], None] | None,
    timeout: float,
) -> tuple[int, bytes]:
    """Run a step's process to its end, stdout and stderr in one stream, as the runner
    reads them; `during` is called with it first. Its exit status and output."""
    with subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as proc:
        try:
            if during is not None:
                during(proc)
            stdout, _ = proc.communicate(timeout=timeout)
        except BaseException:
            proc.kill()
            raise
    return proc.returncode, stdout


def run_composite(
    action: Path,
    inputs: Mapping[str, str],
    *,
    env: Mapping[str, str] | None = None,
    workspace: Path | None = None,
    timeout: float = 120,
    during: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Run:
    """Run the composite action in the folder `action` as GitHub's runner does: the
    inputs context (action.yml's defaults, then `inputs`), each step's `env` and `run`
    with their expressions evaluated (only those the emulator knows: an unknown one fails
    the test), run as `bash --noprofile --norc -eo pipefail SCRIPT` with fresh file-command
    files, GITHUB_ACTION_PATH and a RUNNER_TEMP; GITHUB_ENV carried to later steps; the
    first failing step ends the run. The Run's files are its last step's, and
    `action_outputs` the action's outputs, evaluated from what its steps output. `env`
    (the job's variables: PATH, RUNNER_TOOL_CACHE...) comes before the step's own."""
    import yaml  # here: scripts/demo and smoke_image use this module on the stdlib alone

    metadata = yaml.safe_load((action / "action.yml").read_text())
    assert metadata["runs"]["using"] == "composite", action
    declared = metadata.get("inputs", {})
    assert set(inputs) <= set(declared), (
        f"inputs {action} does not declare: {set(inputs) - set(declared)}"
    )
    context = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    context.update(inputs)
    outputs_of: dict[str, dict[str, str]] = {}

    def value(expression: str) -> str:
        kind, _, rest = expression.partition(".")
        if kind == "inputs" and rest in context:
            return context[rest]
        if expression == "github.action_path":
            return str(action)
        if kind == "steps" and rest.count(".") == 2 and rest.split(".")[1] == "outputs":
            step, _, name = rest.partition(".outputs.")
            return outputs_of.get(step, {}).get(name, "")
        raise AssertionError(f"the runner emulation cannot evaluate ${{{{ {expression} }}}}")

    def evaluate(text: str) -> str:
        return _EXPRESSION.sub(lambda m: value(m.group(1)), str(text))

    logs: list[bytes] = []
    job_env: dict[str, str] = {}
    files: dict[str, str] = {}
    rc = 0
    with tempfile.TemporaryDirectory() as tmp:
        runner_temp = Path(tmp, "runner_temp")
        runner_temp.mkdir()
        for number, step in enumerate(metadata["runs"]["steps"]):
            assert set(step) <= {"id", "name", "shell", "env", "run"}, step
            assert step["shell"] == "bash", step
            commands_dir = Path(tmp, f"step{number}")
            commands_dir.mkdir()
            paths = {kind: commands_dir / f"{kind.lower()}_file" for kind in FILE_COMMANDS}
            for path in paths.values():
                path.touch()
            script = commands_dir / "script.sh"
            script.write_text(evaluate(step["run"]))
            variables = {
                **host_env(),
                "GITHUB_ACTIONS": "true",
                "CI": "true",
                "RUNNER_OS": "Linux",
                "RUNNER_TEMP": str(runner_temp),
                **(env or {}),
                **job_env,
                **{name: evaluate(v) for name, v in step.get("env", {}).items()},
                **{f"GITHUB_{kind}": str(path) for kind, path in paths.items()},
                "GITHUB_ACTION_PATH": str(action),
                "GITHUB_WORKSPACE": str(workspace or ROOT),
            }
            command = [BASH, "--noprofile", "--norc", "-eo", "pipefail", str(script)]
            rc, stdout = _started(command, variables, workspace or ROOT, during, timeout)
            logs.append(stdout)
            files = {kind: path.read_text() for kind, path in paths.items()}
            if "id" in step:
                outputs_of[step["id"]] = parse_file_command(files["OUTPUT"])
            job_env.update(parse_file_command(files["ENV"]))
            if rc:
                break
    declared_outputs = metadata.get("outputs", {})
    action_outputs = {name: evaluate(spec["value"]) for name, spec in declared_outputs.items()}
    log = b"".join(logs).decode("utf-8", "replace")
    return Run(rc, log, files, dict(inputs), action_outputs)


def run_in_process(
    inputs: Mapping[str, str],
    *,
    post: bool = False,
    state: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    workspace: Path | None = None,
) -> Run:
    """The main (or post) step's function in this process, given a recording core and
    the variables `run()` would set as its environment, with the workspace as working
    directory. The job summary is not written (the toolkit writes it where the process's
    environment says: `run()` covers it). The signal handlers the step installs are put
    back afterwards."""
    # Here: scripts/demo and smoke_image use this module with the standard library alone.
    from recording_core import RecordingCore

    from xbearer import action

    ws = workspace or ROOT
    core = RecordingCore(inputs, state or {}, FILE_COMMANDS)
    environ = {
        **host_env(),
        **(env or {}),
        **{f"GITHUB_{kind}": f"recorded-{kind.lower()}" for kind in ("OUTPUT", "ENV", "STATE")},
        "GITHUB_WORKSPACE": str(ws),
    }
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with contextlib.chdir(ws):
            rc = (action.post if post else action.main)(core, environ)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    files = {kind: "".join(f"{text}\n" for text in texts) for kind, texts in core.files.items()}
    log = "".join(f"{line}\n" for line in core.log)
    log.encode("utf-8")  # strict, as the runner's pipe: a character it cannot carry fails
    return Run(rc, log, files, dict(inputs))


def host_env() -> dict[str, str]:
    """This machine's environment without what a test must set itself: the runner's
    variables, and those that change whom a client trusts or how it routes."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith(("INPUT_", "GITHUB_", "STATE_"))
        and name.upper() not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
        and not name.upper().endswith("_PROXY")
    }


def build_image(tag: str, base: str, target: str | None = None) -> None:
    """Build the action's image (or a stage of it) from the Dockerfile on `base`; fail
    with docker's output. Parallel test workers build one tag one at a time (a lock file
    per tag): the first builds, the others find every layer cached."""
    name = re.sub(r"[^\w.-]", "_", tag)
    with (Path(tempfile.gettempdir()) / f"xbearer-build-{name}.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        _build(tag, base, target)


def _build(tag: str, base: str, target: str | None) -> None:
    build = subprocess.run(
        [
            "docker",
            "build",
            "-q",
            "--network",
            "host",
            "--build-arg",
            f"BASE={base}",
            *(["--target", target] if target else []),
            "-t",
            tag,
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode:
        raise RuntimeError(f"docker build failed:\n{build.stdout}{build.stderr}")


def parse_file_command(text: str) -> dict[str, str]:
    """Parse a GITHUB_OUTPUT-style file: `name<<DELIM` heredocs and `name=value` lines."""
    result: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            assert name and delim, f"malformed heredoc line {i}"
            body: list[str] = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            assert i < len(lines), f"heredoc {name!r} has no closing delimiter"
            i += 1
            result[name] = "\n".join(body)
        else:
            assert "=" in line, f"malformed file-command line {i}"
            name, value = line.split("=", 1)
            result[name] = value
    return result


def _unescape(data: str) -> str:
    return data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def commands(log: str) -> list[tuple[str, str]]:
    """The workflow commands in a log, data unescaped as the runner does."""
    found = []
    for line in log.splitlines():
        match = _COMMAND.fullmatch(line.lstrip())
        if match:
            found.append((match.group(1), _unescape(match.group(2))))
    return found


def _mask(line: str, masks: Iterable[str]) -> str:
    spans = sorted(
        (m.start(), m.start() + len(secret))
        for secret in masks
        if secret
        for m in re.finditer(re.escape(secret), line)
    )
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        line = line[:start] + "***" + line[end:]
    return line


def mask_values(log: str) -> set[str]:
    """The values a step registered with ::add-mask::; the runner masks them for the job."""
    return {data for cmd, data in commands(log) if cmd == "add-mask"}


def shown(
    log: str, inputs: Mapping[str, str], trust_runner: bool = True, masks: Iterable[str] = ()
) -> list[str]:
    """The log as the runner would show it; trust_runner: secrets.* inputs masked from the start.

    `masks`: values earlier steps of the job registered.
    """
    masks = {*masks, *(inputs[n] for n in SECRET_INPUTS if inputs.get(n) and trust_runner)}
    lines: list[str] = []
    for raw in log.splitlines():
        match = _COMMAND.fullmatch(raw.lstrip())
        if match and match.group(1) == "add-mask":
            masks.add(_unescape(match.group(2)))
            continue
        text = f"[{match.group(1)}] {_unescape(match.group(2))}" if match else raw
        lines.extend(_mask(part, masks) for part in text.split("\n"))
    return lines


def secret_forms(inputs: Mapping[str, str], tokens: Iterable[str] = ()) -> dict[str, str]:
    """Every form of every secret that must never show: name -> value."""
    forms = {name: inputs[name] for name in SECRET_INPUTS if inputs.get(name)}
    key, secret = inputs.get("api-key", ""), inputs.get("api-secret", "")
    if key and secret:
        forms["basic (RFC 1738)"] = base64.b64encode(
            f"{quote(key, safe='')}:{quote(secret, safe='')}".encode()
        ).decode()
        forms["basic (raw)"] = base64.b64encode(f"{key}:{secret}".encode()).decode()
    client, client_secret = inputs.get("client-id", ""), inputs.get("client-secret", "")
    if client and client_secret:  # OAuth 2.0: form-encoded (RFC 6749 2.3.1) and raw
        encoded = f"{quote_plus(client)}:{quote_plus(client_secret)}"
        forms["client basic (form-encoded)"] = base64.b64encode(encoded.encode()).decode()
        forms["client basic (raw)"] = base64.b64encode(
            f"{client}:{client_secret}".encode()
        ).decode()
    for n, token in enumerate(tokens):
        forms[f"token {n}"] = token
        forms[f"token {n} decoded"] = unquote(token)
    return forms


def assert_no_leak(result: Run, tokens: Iterable[str] = (), trust_runner: bool = True) -> None:
    """Fail if any secret form shows in clear in the log as the runner would show it, in
    the job summary, or in any output but `bearer` (the one place the token belongs).

    With trust_runner=False the inputs count as unmasked until the action masks them.
    """
    __tracebackhide__ = True  # a failure report shows no frame's secrets
    forms = secret_forms(result.inputs, tokens)
    for number, line in enumerate(shown(result.log, result.inputs, trust_runner), 1):
        assert_absent(line, forms, f"shown log line {number}")
    places = {"the job summary": result.files.get("STEP_SUMMARY", "")}
    outputs = parse_file_command(result.files.get("OUTPUT", ""))
    places.update({f"output {k!r}": v for k, v in outputs.items() if k != "bearer"})
    for place, text in places.items():
        assert_absent(text, forms, place)


def assert_absent(text: str, secrets: Mapping[str, str], where: str) -> None:
    """Fail if any of the secrets (name: value) is in the text: the failure names the
    secret, never its value (no assert, whose report would show both sides)."""
    __tracebackhide__ = True
    for name, value in secrets.items():
        if value and value in text:
            raise AssertionError(f"leak: {name} in clear in {where}")
