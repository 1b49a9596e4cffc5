"""scripts/image_bytecode.py in-process: which imports it follows, and the bytecode it
writes. (That it finds all that the modes load is proven in the images: the
test_no_mode_compiles_python_at_run_time tests of test_image.py and test_image_plain.py.)"""

from __future__ import annotations

import ast
import importlib.util
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location(
    "image_bytecode", ROOT / "scripts" / "image_bytecode.py"
)
assert spec and spec.loader
image_bytecode = importlib.util.module_from_spec(spec)
spec.loader.exec_module(image_bytecode)

SOURCE = """\
import os
from . import top_level

if os.name == "nt":
    import winreg

def seal():
    from .sealing import seal as _seal, KINDS
    import netrc, email.utils as eu
    from nacl.public import (
        PublicKey,
        SealedBox,
    )
    from .. import parent_level
    from star import *
    return "x".encode("punycode"), b"y".decode( 'idna' )

class Store:
    async def put(self):
        import github_api

NOT_CODE = \"\"\"
    import docstring_line
\"\"\"
"""
TREE = ast.parse(SOURCE)


def test_functions_imports_are_followed_with_relative_names_resolved() -> None:
    names = image_bytecode.imports(TREE, "pkg.sub", nested_only=True)
    assert {"pkg.sub.sealing", "pkg.sub.sealing.seal", "pkg.sub.sealing.KINDS"} <= names
    assert {"netrc", "email.utils", "nacl.public", "nacl.public.SealedBox"} <= names
    assert {"pkg.parent_level", "star", "github_api"} <= names
    # What the module ran as it loaded is loaded already: only those inside a function;
    # text that only looks like an import is not one.
    assert not {"os", "pkg.sub.top_level", "winreg", "docstring_line"} & names
    assert not [n for n in names if "*" in n or " " in n]


def test_an_entry_points_imports_are_followed_at_every_level() -> None:
    names = image_bytecode.imports(TREE, "", nested_only=False)
    assert {"os", "winreg", "netrc", "nacl.public"} <= names
    assert "docstring_line" not in names


def test_an_import_beyond_the_top_package_is_left_alone() -> None:
    assert (
        image_bytecode.imports(
            ast.parse("def f():\n    from ... import x\n"), "pkg", nested_only=True
        )
        == set()
    )


def test_codecs_named_in_code_are_found() -> None:
    assert image_bytecode.codecs_named(SOURCE.encode(), TREE) == {"punycode", "idna"}


def test_what_loads_is_written_as_unchecked_hash_bytecode_the_import_system_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hook is undone after the test.
    monkeypatch.setattr(SourceFileLoader, "source_to_code", SourceFileLoader.source_to_code)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "probe_module_xb.py"
    source.write_text("ANSWER = 42\n")
    compiled = image_bytecode.Compiled()
    module = importlib.import_module("probe_module_xb")
    monkeypatch.delitem(sys.modules, "probe_module_xb")
    compiled.write(tmp_path / "root")

    pyc = tmp_path / "root" / importlib.util.cache_from_source(str(source)).lstrip("/")
    data = pyc.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert data[4:8] == b"\x01\x00\x00\x00"  # hash-based, unchecked
    assert data[8:16] == importlib.util.source_hash(source.read_bytes())
    # Where the import system looks, it loads this bytecode, not the source.
    cache = Path(importlib.util.cache_from_source(str(source)))
    cache.parent.mkdir()
    cache.write_bytes(data)
    source.write_text("ANSWER = 0\n")  # unchecked: the source is not read again
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    importlib.invalidate_caches()
    again = importlib.import_module("probe_module_xb")
    assert module.ANSWER == again.ANSWER == 42
