"""Compile what the action's modes load, so that no run compiles anything.

Run by the Dockerfile in the image, after the packages and the source are in place,
with the interpreter and flags the entry points use:
``/usr/local/bin/python -I -S image_bytecode.py``.

The real python:3.13-slim ships no bytecode, so whatever a run imports without it is
compiled on every run; compiling the whole standard library would make the build
slower than a naive one, and the modes load about a quarter of it. So the interpreter
is asked what loads: it imports what the entry points import, then, until nothing
new comes, every module that loaded code under /app imports inside a function (a
mode's own: sealing, OAuth 1.0a, the secret store; the packages' own, such as
requests' netrc) and every codec it names (idna's punycode), as the modes would on
their way. The import system compiles each once, and a hook
keeps its code; the action's own package is compiled whole (it is small).

Each module is written as an unchecked-hash pyc (PEP 552: never compared with its
source, which nothing in the image changes) where the import system reads it, in
__pycache__ beside its source. The release image (scripts/image_tree.py) takes this
bytecode in place of the source, except the action's own.

What no mode loads keeps its source only. The tests run every mode in both images and
check, with `docker diff`, that none compiles anything.
"""

from __future__ import annotations

import ast
import codecs
import contextlib
import importlib
import importlib.util
import marshal
import sys
from collections.abc import Iterator
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import CodeType
from typing import Any, cast

APP, PACKAGES = "/app", "/app/lib"
ENTRY_POINTS = "/app/bin"
OWN = "/app/xbearer"  # the action's package: compiled whole
UNCHECKED_HASH = (0b01).to_bytes(4, "little")  # a pyc's flags: hash-based, never checked


def imports(tree: ast.Module, package: str, *, nested_only: bool) -> set[str]:
    """Absolute names that the import statements in `tree` (a module of `package`) name:
    a module, and each name taken from it, which may be a submodule. With `nested_only`,
    only those inside a function: the others ran when the module loaded."""
    names: set[str] = set()
    for node, in_function in _import_statements(tree.body):
        if nested_only and not in_function:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        with contextlib.suppress(ImportError, ValueError):  # beyond the top package
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _import_statements(
    body: list[ast.stmt], in_function: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement in these statements and the blocks they hold, and whether
    it is inside a function (expressions hold no statement: not looked into)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, in_function
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            yield from _import_statements(getattr(node, block, []), inside)


def codecs_named(source: bytes, tree: ast.Module) -> set[str]:
    """Codecs named in code (`.encode("punycode")`): the encodings package imports each
    one's module when it is first looked up. Only where the text has such a call: most
    modules have none, and a few are mostly data (idna's tables)."""
    if b"code(" not in source:
        return set()
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("encode", "decode")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def _import(name: str) -> None:
    """Import as a mode would; what does not import here does not in a run either."""
    with contextlib.suppress(Exception):  # optional modules: brotli, socks, winreg, ...
        importlib.import_module(name)


def entry_points() -> set[str]:
    """What the entry points import."""
    return {
        name
        for script in sorted(Path(ENTRY_POINTS).iterdir())
        for name in imports(ast.parse(script.read_bytes()), "", nested_only=False)
    }


def load(names: set[str]) -> None:
    """Import these, then whatever loaded code under /app imports inside functions, and
    the codecs it names, until nothing new loads."""
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
            source = Path(path).read_bytes()
            tree = ast.parse(source, path)
            for wanted in sorted(imports(tree, package, nested_only=True)):
                _import(wanted)
            for codec in sorted(codecs_named(source, tree)):
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
        """Add the loaded modules the hook did not see: this script's own imports (which a
        mode may share), and any loaded from bytecode already in the base, whose code is
        taken as the import system takes it (valid bytecode as it is; else compiled).
        Frozen and built-in modules need none."""
        for module in list(sys.modules.values()):
            loader = getattr(module.__spec__, "loader", None)
            if isinstance(loader, SourceFileLoader) and loader.path not in self.code:
                code = cast(CodeType, loader.get_code(loader.name))  # a source has code
                self.code[loader.path] = (Path(loader.path).read_bytes(), code)

    def write(self, root: Path) -> None:
        """Each as an unchecked-hash pyc under `root` at the path the import system
        reads: beside its source, once `root` is the image's /."""
        for path, (data, code) in self.code.items():
            target = root / importlib.util.cache_from_source(path).lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            header = importlib.util.MAGIC_NUMBER + UNCHECKED_HASH + importlib.util.source_hash(data)
            target.write_bytes(header + marshal.dumps(code))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (sys.flags.isolated and sys.flags.no_site):
        raise SystemExit("usage: /usr/local/bin/python -I -S image_bytecode.py")
    sys.path[:0] = [PACKAGES, APP]  # as the entry points set it
    sys.dont_write_bytecode = True  # the pycs are written below, as they must be
    compiled = Compiled()
    load(entry_points())
    compiled.add_loaded_otherwise()
    for path in sorted(Path(OWN).rglob("*.py")):
        compiled.add(str(path))
    compiled.write(Path("/"))
    print(f"image_bytecode.py: {len(compiled.code)} modules compiled")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
