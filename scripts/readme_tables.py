"""Keep README's inputs and outputs tables equal to action.yml.

`python scripts/readme_tables.py` rewrites the tables between the README's markers;
tests/test_docs.py fails when they differ from what this prints.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MARKERS = re.compile(
    r"(<!-- (inputs|outputs): generated from action.yml -->\n).*?(<!-- end -->)", re.S
)


def tables(action: dict[str, dict[str, dict[str, str]]]) -> dict[str, str]:
    """Markdown tables for the inputs and outputs of an action.yml."""
    rows = ["| input | default | description |", "|---|---|---|"]
    for name, spec in action["inputs"].items():
        default = f"`{spec['default']}`" if "default" in spec else "—"
        rows.append(f"| `{name}` | {default} | {spec['description']} |")
    outputs = ["| output | description |", "|---|---|"]
    outputs += [f"| `{name}` | {spec['description']} |" for name, spec in action["outputs"].items()]
    return {"inputs": "\n".join(rows), "outputs": "\n".join(outputs)}


def render(readme: str, action: dict[str, dict[str, dict[str, str]]]) -> str:
    """The README with both tables regenerated."""
    generated = tables(action)
    return MARKERS.sub(lambda m: m.group(1) + generated[m.group(2)] + "\n" + m.group(3), readme)


def main() -> int:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    path = ROOT / "README.md"
    path.write_text(render(path.read_text(), action))
    return 0


if __name__ == "__main__":
    sys.exit(main())
