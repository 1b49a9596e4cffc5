"""Precompile what the action's modes load: bytecode only, in two passes.

Run with the interpreter and flags the entry points use. The real python:3.13-slim
ships no bytecode, so whatever a run imports without it is compiled on every run;
but compiling the whole standard library (about 3 s here) made the build far slower
than a naive one, and the modes load about a quarter of it.

So the interpreter is asked what loads: it imports, then, until nothing new comes,
every module that loaded code under /app imports inside a function (a mode's own:
sealing, OAuth 1.0a, the secret store; the packages' own, such as requests' netrc)
and every codec it names (idna's punycode), as the modes would on their way. The
import system compiles each once, and a hook keeps its code.

- ``image_bytecode.py --packages ROOT``, in the first stage, on the tree in ROOT
  (scripts/image_tree.py), before the source is there (so a source change does not
  redo it): what the installed packages load, standard library included. Each
  module is written as sourceless bytecode in place of its source in ROOT (fewer
  bytes to copy; a traceback through them lacks source lines).
- ``image_bytecode.py OUT``, in the second stage, chrooted into that tree after the
  source is added (so on the final image's own files, by its own interpreter): what
  the entry points import and what that loads beyond the first pass, each written as
  an unchecked-hash pyc (never compared with its source: nothing in the image
  changes it) under OUT at the path the import system reads, its source kept; the
  action's own package is compiled whole. The final image takes OUT apart from the
  tree, so a source change rebuilds only that small layer.

What no mode loads keeps its source only. The tests run every mode in the final
image and check, with `docker diff`, that none compiles anything.
"""

from __future__ import annotations

import codecs
import contextlib
import importlib
import importlib.util
import marshal
import re
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import CodeType
from typing import Any

APP, PACKAGES = "/app", "/app/lib"
ENTRY_POINTS = "/app/bin"
OWN = "/app/xbearer"  # the action's package: compiled whole, it is small


# An import statement (`{}`: its indentation); a docstring line may look like one,
# which costs a failed import at most.
_IMPORT = (
    r"^{}(?:import[ \t]+([\w., \t]+)|from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]*))"
)
EVERY = re.compile(_IMPORT.format("[ \t]*"), re.MULTILINE)
# Indented: inside a function (or a block), so it may not have run when the module loaded.
NESTED = re.compile(_IMPORT.format("[ \t]+"), re.MULTILINE)


def imports(source: str, package: str, statements: re.Pattern[str]) -> set[str]:
    """Absolute names that these import statements in `source` (of `package`) name:
    a module, and each name taken from it, which may be a submodule."""
    names: set[str] = set()
    for modules, written, taken in statements.findall(source):
        if modules:
            names.update(part.split()[0] for part in modules.split(",") if part.strip())
            continue
        with contextlib.suppress(ImportError, ValueError):  # beyond the top package
            base = importlib.util.resolve_name(written, package) if written[:1] == "." else written
            names.add(base)
            for part in taken.strip("() \t").split(","):
                if part.split() and part.split()[0] != "*":
                    names.add(f"{base}.{part.split()[0]}")
    return names


# A codec named in code (`.encode("punycode")`): the encodings package imports its
# module when it is first looked up.
CODEC = re.compile(r"""\.(?:en|de)code\(\s*["']([\w-]+)["']""")


def _import(name: str) -> None:
    """Import as a mode would; what does not import here does not in a run either."""
    with contextlib.suppress(Exception):  # optional modules: brotli, socks, winreg, ...
        importlib.import_module(name)


def entry_points() -> set[str]:
    """What the entry points import."""
    return {
        name
        for script in sorted(Path(ENTRY_POINTS).iterdir())
        for name in imports(script.read_text(), "", EVERY)
    }


def packages() -> set[str]:
    """The installed packages' top-level modules, each to be imported: what none of the
    modes loads among them (cffi's Python part) is compiled too, a few modules."""
    return {
        path.name.removesuffix(".py")
        for path in Path(PACKAGES).iterdir()
        if (path / "__init__.py").exists() or path.suffix == ".py"
    }


def load(names: set[str]) -> None:
    """Import these, then whatever loaded code under /app imports, inside functions
    too, and the codecs it names, until nothing new loads."""
    for name in sorted(names):
        _import(name)
    scanned: set[str] = set()
    while todo := [
        (name, path, module.__package__ or "")
        for name, module in list(sys.modules.items())
        if name not in scanned
        and (path := getattr(module, "__file__", None) or "").startswith(APP + "/")
        and path.endswith(".py")
    ]:
        for name, path, package in todo:
            scanned.add(name)
            source = Path(path).read_text()
            for wanted in sorted(imports(source, package, NESTED)):
                _import(wanted)
            for codec in sorted(set(CODEC.findall(source))):
                with contextlib.suppress(LookupError):
                    codecs.lookup(codec)


class Compiled:
    """The code the import system compiles while the modes load, kept as it goes (so
    nothing is compiled twice), by source path: the source's bytes and the code."""

    def __init__(self) -> None:
        self.code: dict[str, tuple[bytes, CodeType]] = {}
        original = SourceFileLoader.source_to_code

        def keep(loader: SourceFileLoader, data: bytes, path: str, **kw: Any) -> CodeType:
            code = original(loader, data, path, **kw)
            self.code[path] = (data, code)
            return code

        SourceFileLoader.source_to_code = keep  # type: ignore[method-assign,assignment]

    def add(self, path: str) -> None:
        """Compile `path` as the import system does, unless it was."""
        if path not in self.code:
            data = Path(path).read_bytes()
            self.code[path] = (data, compile(data, path, "exec", dont_inherit=True))

    def add_loaded_otherwise(self) -> None:
        """Compile the loaded modules the hook did not see: this script's own imports
        (which a mode may share), any loaded from bytecode already in the base. Frozen
        and built-in modules need none."""
        for module in list(sys.modules.values()):
            if isinstance(getattr(module.__spec__, "loader", None), SourceFileLoader):
                self.add(module.__file__ or "")

    def write(self, root: Path) -> None:
        """Each as an unchecked-hash pyc (PEP 552) under `root` at the path the import
        system reads: beside its source, once `root` is the image's /."""
        for path, (data, code) in self.code.items():
            _write_pyc(root / importlib.util.cache_from_source(path).lstrip("/"), data, code)

    def write_sourceless(self, root: Path) -> int:
        """Each found in the tree in `root` as a pyc in place of its source (where the
        import system loads bytecode without source); how many."""
        written = 0
        for path, (data, code) in self.code.items():
            source = root / path.lstrip("/")
            if source.is_file():
                _write_pyc(source.with_suffix(".pyc"), data, code)
                source.unlink()
                written += 1
        return written


def _write_pyc(target: Path, data: bytes, code: CodeType) -> None:
    flags = (0b01).to_bytes(4, "little")  # hash-based, never checked against the source
    target.parent.mkdir(parents=True, exist_ok=True)
    header = importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(data)
    target.write_bytes(header + marshal.dumps(code))


def main(argv: list[str]) -> int:
    first = argv[1:2] == ["--packages"]
    if len(argv) != 2 + first or not (sys.flags.isolated and sys.flags.no_site):
        usage = "usage: /usr/local/bin/python -I -S image_bytecode.py (--packages ROOT | OUT)"
        raise SystemExit(usage)
    root = Path(argv[-1])
    sys.path[:0] = [PACKAGES, APP]  # as the entry points set it
    sys.dont_write_bytecode = True  # the pycs are written below, as they must be
    compiled = Compiled()
    load(packages() if first else entry_points())
    compiled.add_loaded_otherwise()
    if first:
        print(f"image_bytecode.py: {compiled.write_sourceless(root)} modules compiled")
        return 0
    for path in sorted(Path(OWN).rglob("*.py")):
        compiled.add(str(path))
    compiled.write(root)
    print(f"image_bytecode.py: {len(compiled.code)} modules compiled")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
