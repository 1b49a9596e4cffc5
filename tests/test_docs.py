"""The README says what action.yml says, and its commands are the ones that exist."""

from __future__ import annotations

import importlib.util
import json
import re

import yaml

from xbearer.action import INPUTS

from ghrunner import ROOT

spec = importlib.util.spec_from_file_location(
    "readme_tables", ROOT / "scripts" / "readme_tables.py"
)
assert spec and spec.loader
readme_tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_tables)

README = (ROOT / "README.md").read_text()
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def test_readme_tables_match_their_sources() -> None:
    assert README.count("generated from action.yml -->") == 2
    assert README.count("generated from bench/results.json -->") == 1
    expected = readme_tables.render(README, *readme_tables.sources())
    assert expected == README, "README tables are stale: run python scripts/readme_tables.py"


def test_benchmark_figures_appear_only_where_generated() -> None:
    # One source for figures: bench/results.json renders the README's table; the
    # CHANGELOG and the rest of the README quote no ratio of it.
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    table = readme_tables.bench_table(results)
    prose = README.replace(table, "") + (ROOT / "CHANGELOG.md").read_text()
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
    if design.exists():  # beside the checkout in CI and development
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
        assert list(ACTION["outputs"]) == [*contract, "expires-in", "scope"]
    defaults = {k: v.get("default") for k, v in inputs.items() if "default" in v}
    assert defaults == {
        "api-url": "https://api.twitter.com",
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


def test_readme_yaml_snippets_parse() -> None:
    snippets = re.findall(r"```yaml\n(.*?)```", README, re.S)
    assert len(snippets) >= 3
    for snippet in snippets:
        assert yaml.safe_load(snippet)
