"""The README says what action.yml says, and its commands are the ones that exist."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
import yaml

from xbearer.selection import INPUTS

from ghrunner import ROOT

spec = importlib.util.spec_from_file_location(
    "readme_tables", ROOT / "scripts" / "readme_tables.py"
)
assert spec and spec.loader
readme_tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_tables)

README = (ROOT / "README.md").read_text()
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


PERFORMANCE = (ROOT / "docs" / "performance.md").read_text()


def test_generated_tables_match_their_sources() -> None:
    assert README.count("generated from action.yml -->") == 2
    assert PERFORMANCE.count("generated from bench/results.json -->") == 1
    for text in (README, PERFORMANCE):
        expected = readme_tables.render(text, *readme_tables.sources())
        assert expected == text, "generated tables are stale: run python scripts/readme_tables.py"


def test_benchmark_figures_appear_only_where_generated() -> None:
    # One source for figures: bench/results.json renders docs/performance.md's table;
    # the rest of that page, the README and the CHANGELOG quote no ratio of it.
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    table = readme_tables.bench_table(results)
    prose = PERFORMANCE.replace(table, "") + README + (ROOT / "CHANGELOG.md").read_text()
    for row in results.values():
        assert f"{row['ratio']:.2f}" not in prose
    assert not re.findall(r"\d\.\d+ ?×", prose), "quote bench figures only in the generated table"


def test_tables_are_derived_from_every_input_and_output() -> None:
    generated = readme_tables.tables(ACTION)
    for name in ACTION["inputs"]:
        assert f"| `{name}` |" in generated["inputs"]
    for name in ACTION["outputs"]:
        assert f"| `{name}` |" in generated["outputs"]


def test_action_yml_matches_the_interface_contract() -> None:
    inputs = ACTION["inputs"]
    design = ROOT.parent / "shared" / "design"
    if not design.exists():
        pytest.skip(f"the interface contract is in {design}, beside the checkout: absent here")
    # interface.md's tables, then user-context.md's inputs and its two new outputs.
    text = (design / "interface.md").read_text()
    section = text[text.index("## Inputs") : text.index("## Outputs")]
    contract = re.findall(r"^\| `([a-z-]+)` \|", section, re.M)
    user = (design / "user-context.md").read_text()
    section = user[user.index("## Inputs") : user.index("## The exchange")]
    contract += re.findall(r"^\| `([a-z-]+)` \|", section, re.M)
    assert list(inputs) == contract
    section = text[text.index("## Outputs") : text.index("## Why")]
    contract = re.findall(r"^\| `([a-z-]+)` \|", section, re.M)
    assert "new `expires-in`" in user and "and `scope`" in user
    # expires-at is issue 21's, newer than the design documents.
    assert list(ACTION["outputs"]) == [*contract, "expires-in", "expires-at", "scope"]


def test_action_yml_defaults_and_the_inputs_the_glue_reads() -> None:
    inputs = ACTION["inputs"]
    defaults = {k: v.get("default") for k, v in inputs.items() if "default" in v}
    assert defaults == {
        "api-url": "https://api.x.com",
        "timeout": "10",
        "retries": "3",
        "invalidate": "false",
    }
    # The glue reads every input action.yml declares (invalidate as a boolean).
    assert set(INPUTS) | {"invalidate"} == set(inputs)
    assert ACTION["runs"] == {
        "using": "docker",
        "image": "Dockerfile",
        "post-entrypoint": "/app/bin/post",
    }


def test_readme_has_one_demo_and_one_test_command() -> None:
    fenced = re.findall(r"```(?:sh|bash|console)\n(.*?)```", README, re.S)
    commands = [line for block in fenced for line in block.splitlines()]
    assert commands.count("scripts/demo") == 1
    assert commands.count("scripts/test") == 1
    assert (ROOT / "scripts" / "demo").stat().st_mode & 0o111
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert [line for line in ci if "scripts/test" in line and not line.startswith("#")] == [
        "bash scripts/test -p no:cacheprovider"
    ]


def test_the_readme_is_short_and_opens_with_a_complete_workflow() -> None:
    assert len(README.splitlines()) < 200
    first = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", README, re.S)[0])
    assert {"name", "permissions", "jobs"} <= set(first) and True in first  # on: is True
    (job,) = first["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    token, call = job["steps"]
    assert token["id"] == "token" and set(token["with"]) == {"api-key", "api-secret"}
    assert "curl -fsS" in call["run"] and "steps.token.outputs.bearer" in str(call["env"])
    for moved in ("docs/demo.md", "docs/performance.md", "docs/cli.md", "CONTRIBUTING.md"):
        assert f"]({moved})" in README and (ROOT / moved).exists()


def test_readme_yaml_snippets_parse() -> None:
    snippets = re.findall(r"```yaml\n(.*?)```", README, re.S)
    assert len(snippets) >= 3
    for snippet in snippets:
        assert yaml.safe_load(snippet)


def _action_steps(doc: object) -> list[dict]:
    """Every step of a workflow (or snippet) that uses this action."""
    found: list[dict] = []
    if isinstance(doc, dict):
        uses = doc.get("uses")
        if isinstance(uses, str) and uses.startswith(("OWNER/REPO@", "./")):
            found.append(doc)
        for value in doc.values():
            found += _action_steps(value)
    elif isinstance(doc, list):
        for item in doc:
            found += _action_steps(item)
    return found


def test_examples_use_only_the_actions_inputs_and_outputs_and_fail_on_http_errors() -> None:
    texts = [p.read_text() for p in sorted((ROOT / "examples").glob("*.yml"))]
    texts += re.findall(r"```yaml\n(.*?)```", README, re.S)
    outputs = set(ACTION["outputs"])
    for text in texts:
        steps = _action_steps(yaml.safe_load(text))
        for step in steps:
            assert set(step.get("with", {})) <= set(ACTION["inputs"]), step
        for name in re.findall(r"steps\.token\.outputs\.([a-z-]+)", text):
            assert name in outputs, name
        for line in text.splitlines():
            if re.search(r"\bcurl\b", line):
                assert re.search(r"\s-[a-zA-Z]*f", line), f"curl without -f: {line.strip()}"


def _section(text: str, heading: str) -> str:
    return text.split(heading, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def test_the_account_section_is_a_checklist_that_needs_no_other_page() -> None:
    """Every setting a person must choose, the install line where it is first used, the
    GitHub token's needs over time, concurrency in plain words; no "as above"."""
    from xbearer.loopback import CALLBACK, DEFAULT_PORT

    account = _section(README, "### Post as an account")
    for needed in (
        "OAuth 2.0",
        "Web App, Automated App or Bot",
        "Native App",
        "Client Secret",
        "**Read and\n   write**",
        f"`http://127.0.0.1:{DEFAULT_PORT}{CALLBACK}`",
        "Website URL",
        "fine-grained personal access token",
        "**Secrets: read and write**",
        "expires",
        "renew it",
        "--paste",
        "GitHub cancels the waiting one",
    ):
        assert needed in account, needed
    install = account.index("pipx install git+https://github.com/OWNER/REPO")
    assert install < account.index("xbearer authorize")  # installed right where first used
    assert "as above" not in README
    (workflow,) = re.findall(r"```yaml\n(.*?)```", account, re.S)
    (job,) = yaml.safe_load(workflow)["jobs"].values()
    assert job["concurrency"] and job["runs-on"] == "ubuntu-latest"
    (step,) = _action_steps(job)
    assert {"refresh-token", "refresh-token-secret-name", "github-token"} <= set(step["with"])


def test_the_expired_token_message_the_readme_quotes_is_the_actions() -> None:
    quoted = re.search(r'\("\.\.\. (.*?)"\)', _section(README, "### Post as an account"))
    assert quoted is not None
    source = (ROOT / "src" / "xbearer" / "github.py").read_text()
    assert quoted.group(1) in source


def test_descriptions_separate_with_a_colon_not_a_dash() -> None:
    """A description quoted in YAML may hold a colon; ' - ' read as a stray list item."""
    items = {**ACTION["inputs"], **ACTION["outputs"]}
    dashed = [name for name, item in items.items() if " - " in item["description"]]
    assert dashed == []


def test_pre_commit_runs_every_linter_of_scripts_test() -> None:
    script = (ROOT / "scripts" / "test").read_text()
    lint = script[script.index('echo "== lint"') : script.index('echo "== tests')]
    checks = [
        re.sub(r'"\$bin/|"|\\\n\s*|env PATH="\$PWD/\$bin:\$PATH" ', "", line).strip()
        for line in re.findall(r'^check "[^"]*" ((?:.*\\\n)*.*)$', lint, re.M)
    ]
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = [
        re.sub(r"\.venv/bin/|bash -c |'|PATH=\"\$PWD/\.venv/bin:\$PATH\" ", "", hook["entry"])
        for repo in config["repos"]
        for hook in repo["hooks"]
    ]
    assert len(checks) == 10
    assert entries == checks


def test_dependabot_groups_every_ecosystems_updates() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    for update in config["updates"]:
        assert update["groups"], update["package-ecosystem"]
        assert any(group["patterns"] == ["*"] for group in update["groups"].values())


def test_the_readme_states_the_budget_with_the_wait_each_retry_may_add() -> None:
    """The README's budget (twice: the Time bullet, the timeout input) is the one the
    transport enforces and its message states, from one constant."""
    from xbearer.retry import WAIT_PER_RETRY

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = f"(retries + 1) × timeout + {WAIT_PER_RETRY:g} s per retry"
    assert readme.count(stated) == 2


def _native_jobs(doc: object) -> list[tuple[dict, dict]]:
    """(workflow, job) for each job of a workflow that uses the native action."""
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
        return []
    return [
        (doc, job)
        for job in doc["jobs"].values()
        if any(
            str(step.get("uses", "")).startswith("OWNER/REPO/native")
            for step in job.get("steps", [])
        )
    ]


def test_the_native_examples_run_their_shell_steps_in_bash_on_every_runner() -> None:
    """The native action's examples are for Windows too, whose default shell is
    PowerShell: a step that reads `$BEARER` there sends an empty token. Each run step
    of such a job says `shell: bash`, or the job or workflow makes it the default."""
    texts = [p.read_text() for p in sorted((ROOT / "examples").glob("*.yml"))]
    texts += re.findall(r"```yaml\n(.*?)```", README, re.S)
    jobs = [pair for text in texts for pair in _native_jobs(yaml.safe_load(text))]
    assert jobs
    for workflow, job in jobs:
        default = (job.get("defaults") or workflow.get("defaults") or {}).get("run", {})
        for step in job["steps"]:
            if "run" in step and "$" in step["run"]:
                assert (step.get("shell") or default.get("shell")) == "bash", step
