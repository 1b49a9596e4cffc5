"""Assemble the file tree of the action's release image: only what runs.

Run by the Dockerfile's `tree` stage, in the plain image (packages, source and bytecode
in place), with the interpreter and flags the entry points use:
``/usr/local/bin/python -I -S image_tree.py ROOT``. It asks that interpreter where it
lives and imports from (the official slim image keeps Python in /usr/local, Debian's
is in /usr) and copies into ROOT, keeping every symbolic link met on the way:

- the interpreter and its standard library (the directories on its import path),
  without what can never run here (EXCLUDED, with the reason for each);
- the action (/app): its entry points, its package, the installed packages;
- the bytecode scripts/image_bytecode.py wrote for what the modes load, in place of
  the source it was compiled from (fewer bytes to pull; a traceback through those
  modules lacks their source lines), except for the action's own package, which
  keeps its source beside its bytecode; other bytecode is left out;
- every shared library that the interpreter and each kept extension module load,
  found by following their dynamic dependencies with ldd (never a hand-kept
  list; the multiarch directory is whatever the loader says), plus libgcc_s,
  which glibc loads by name (no dependency names it) to unwind a thread's stack;
- the files glibc and OpenSSL read at start: a loader cache made for this tree,
  nsswitch.conf, gai.conf, host.conf, the time zone, the C.UTF-8 character
  table, the character conversions' cache, OpenSSL's configuration; root in
  passwd and group; a writable /tmp;
- the copyright file of every Debian package a file came from.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

APP = "/app"
OWN = "/app/xbearer"  # the action's package: its source stays, for its tracebacks
UNCHECKED_HASH = (0b01).to_bytes(4, "little")  # the flags of the pycs image_bytecode.py writes
# Parts of the standard library that can never run in the action's image: name
# patterns (matched against every file and directory name under the standard
# library, extension modules by their module name), each with its reason.
EXCLUDED = {
    "test": "the test suite",
    "tests": "test suites",
    "idle_test": "IDLE's test suite",
    "__phello__": "a test package",
    "_test*": "test extension modules",
    "_ctypes_test": "a test extension module",
    "_xxtestfuzz": "a test extension module",
    "xx*": "example extension modules",
    "tkinter": "Tk is not in the image",
    "_tkinter": "Tk is not in the image",
    "idlelib": "IDLE, a Tk application",
    "turtle.py": "Tk graphics",
    "turtledemo": "Tk graphics",
    "ensurepip": "installs pip; nothing is installed at run time",
    "venv": "creates environments with ensurepip",
    "lib2to3": "a source converter",
    "pydoc.py": "interactive help: there is no terminal",
    "pydoc_data": "interactive help: there is no terminal",
    "_pyrepl": "the interactive prompt: there is no terminal",
    "curses": "the terminal library (ncurses) is not in the image",
    "_curses": "the terminal library (ncurses) is not in the image",
    "_curses_panel": "the terminal library (ncurses) is not in the image",
    "readline": "line editing for a terminal (GNU readline is not in the image)",
    "sqlite3": "SQLite is not in the image",
    "_sqlite3": "SQLite is not in the image",
    "_dbm": "Berkeley DB and GDBM are not in the image",
    "_gdbm": "Berkeley DB and GDBM are not in the image",
    "sitecustomize.py": "run by site, which the entry points skip (-S)",
    "site-packages": "what was installed into the base (pip): never on the path (-S)",
    "dist-packages": "what was installed into the base: never on the path (-S)",
}
# Loaded with dlopen by glibc itself (pthread_exit, pthread_cancel), so no DT_NEEDED
# entry names it.
DLOPENED = ("libgcc_s.so.1",)
# What glibc reads when a process starts or looks up a name, if present in the base.
GLIBC_FILES = ("/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf", "/etc/localtime")


class Tree:
    """A file tree under `root` that mirrors paths of this system."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.copied: set[str] = set()  # real paths of the files copied, for licences

    def _here(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def add(self, path: str) -> str:
        """Copy `path` into the tree with every symbolic link on its way; the real path."""
        current = "/"
        todo = [part for part in path.split("/") if part]
        while todo:
            part = todo.pop(0)
            if part == ".":
                continue
            if part == "..":
                current = os.path.dirname(current)
                continue
            candidate = os.path.join(current, part)
            if os.path.islink(candidate):
                target = os.readlink(candidate)
                mirror = self._here(candidate)
                if not mirror.is_symlink():
                    mirror.parent.mkdir(parents=True, exist_ok=True)
                    mirror.symlink_to(target)
                if target.startswith("/"):
                    current = "/"
                todo[:0] = [p for p in target.split("/") if p]
                continue
            current = candidate
        mirror = self._here(current)
        if os.path.isdir(current):
            mirror.mkdir(parents=True, exist_ok=True)
        elif not mirror.exists():
            mirror.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(current, mirror)
            self.copied.add(current)
        return current

    def add_module(self, source: str) -> str:
        """Copy a module: if image_bytecode.py compiled it, its bytecode in its place (for
        the action's own package, beside it); else its source. The real path copied."""
        pyc = importlib.util.cache_from_source(source)
        if not _compiled_here(pyc):
            real = os.path.realpath(source)
            if real != source and _compiled_here(importlib.util.cache_from_source(real)):
                return real  # a second name for a module whose source is left out
            return self.add(source)
        if source.startswith(OWN + "/"):
            self.add(pyc)
            return self.add(source)
        mirror = self._here(source + "c")
        mirror.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pyc, mirror)
        return pyc

    def add_tree(self, top: str, skip: Iterable[str] = ()) -> list[str]:
        """Copy a directory, leaving out the names that match `skip`; the files copied."""
        kept: list[str] = []
        for directory, dirs, files in os.walk(self.add(top)):
            dirs[:] = sorted(d for d in dirs if not _matches(d, skip))
            for name in sorted(files):
                if not _matches(name, skip):
                    path = os.path.join(directory, name)
                    kept.append(self.add_module(path) if name.endswith(".py") else self.add(path))
            for name in dirs:  # os.walk does not enter a linked directory
                if os.path.islink(os.path.join(directory, name)):
                    kept += self.add_tree(os.path.join(directory, name), skip)
        return kept


def _matches(name: str, patterns: Iterable[str]) -> bool:
    module = name.split(".", 1)[0]  # _ssl.cpython-313-<platform>.so -> _ssl
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(module, p) for p in patterns)


def _compiled_here(pyc: str) -> bool:
    """Whether `pyc` is bytecode image_bytecode.py wrote (not the base's own, if any)."""
    if not os.path.isfile(pyc):
        return False
    with open(pyc, "rb") as file:
        return file.read(8)[4:] == UNCHECKED_HASH


def _is_elf(path: str) -> bool:
    with open(path, "rb") as file:
        return file.read(4) == b"\x7fELF"


def shared_libraries(binary: str) -> list[str]:
    """The libraries the loader maps for `binary` (the loader itself included), per ldd."""
    done = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False)
    if done.returncode and "not a dynamic executable" in done.stdout + done.stderr:
        return []  # statically linked
    if done.returncode or "not found" in done.stdout:
        raise SystemExit(f"ldd {binary} failed:\n{done.stdout}{done.stderr}")
    found = []
    for line in done.stdout.splitlines():
        name, arrow, rest = line.strip().partition("=>")
        path = (rest if arrow else name).strip().split(" (0x")[0].strip()
        if path.startswith("/"):
            found.append(path)
    return found


def elf_libraries(paths: Iterable[str]) -> set[str]:
    """The libraries that the ELF files among these paths load."""
    return {
        library
        for path in paths
        if os.path.isfile(path) and _is_elf(path)
        for library in shared_libraries(path)
    }


def library_directories(libraries: Iterable[str]) -> list[str]:
    """The directories the libraries were found in, for the tree's loader cache."""
    return sorted({os.path.dirname(os.path.realpath(path)) for path in libraries})


def debian_packages(paths: Iterable[str]) -> set[str]:
    """The Debian packages that installed these files, from dpkg's lists (compared as
    real paths: with merged /usr a package may list /lib/... for /usr/lib/...)."""
    wanted = set(paths)
    names = {os.path.basename(path) for path in wanted}
    owners: set[str] = set()
    for listing in sorted(Path("/var/lib/dpkg/info").glob("*.list")):
        for line in listing.read_text(errors="replace").splitlines():
            if os.path.basename(line) in names and os.path.realpath(line) in wanted:
                owners.add(listing.stem.split(":", 1)[0])
                break
    return owners


def import_path() -> list[str]:
    """Where this interpreter imports the standard library from, run as the entry points
    run it (isolated, without site): the directories on sys.path, each copied once."""
    found: list[str] = []
    for directory in sorted(filter(os.path.isdir, sys.path), key=len):
        real = os.path.realpath(directory)
        if not any(real == f or real.startswith(f + "/") for f in map(os.path.realpath, found)):
            found.append(directory)
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not (sys.flags.isolated and sys.flags.no_site):
        raise SystemExit("usage: /usr/local/bin/python -I -S image_tree.py ROOT")
    tree = Tree(Path(argv[1]))
    skip = [*EXCLUDED, "__pycache__"]  # bytecode: see Tree.add_module

    tree.add(sys.executable)
    kept = [path for directory in import_path() for path in tree.add_tree(directory, skip)]
    kept += tree.add_tree(APP, ["__pycache__"])
    libraries = elf_libraries([os.path.realpath(sys.executable), *kept])

    for library in sorted(libraries):
        tree.add(library)
    for name in DLOPENED:
        for directory in library_directories(libraries):
            if os.path.exists(os.path.join(directory, name)):
                tree.add(os.path.join(directory, name))

    _glibc_configuration(tree, libraries)
    _openssl_configuration(tree)
    _licences(tree)
    (tree.root / "tmp").mkdir(exist_ok=True)
    (tree.root / "tmp").chmod(0o1777)

    return 0


def _glibc_configuration(tree: Tree, libraries: set[str]) -> None:
    """Name service switch, address sorting, time zone, the C.UTF-8 character table,
    the character conversions' cache, root's entry, and a loader cache that lists the
    tree's libraries only."""
    for path in GLIBC_FILES:
        if os.path.lexists(path):
            tree.add(path)
    ctype = "/usr/lib/locale/C.utf8/LC_CTYPE"
    if os.path.exists(ctype):
        tree.add(ctype)
    for directory in library_directories(libraries):  # read before converting characters
        gconv = os.path.join(directory, "gconv", "gconv-modules.cache")
        if os.path.exists(gconv):
            tree.add(gconv)
    etc = tree.root / "etc"
    for name in ("passwd", "group"):
        with open(f"/etc/{name}") as source:
            (etc / name).write_text("".join(line for line in source if line.startswith("root:")))
    (etc / "ld.so.conf").write_text("".join(f"{d}\n" for d in library_directories(libraries)))
    subprocess.run(["ldconfig", "-X", "-r", str(tree.root)], check=True)
    (etc / "ld.so.conf").unlink()


def _openssl_configuration(tree: Tree) -> None:
    """OpenSSL's configuration file, which it reads at start, where it looks for it."""
    directory = os.path.dirname(ssl.get_default_verify_paths().openssl_cafile)
    config = os.path.join(directory, "openssl.cnf")
    if os.path.lexists(config):
        tree.add(config)


def _licences(tree: Tree) -> None:
    """The copyright file of every Debian package a file came from (Python's own
    licence, LICENSE.txt, is in the standard library)."""
    for package in sorted(debian_packages(tree.copied)):
        copyright_file = f"/usr/share/doc/{package}/copyright"
        if os.path.exists(copyright_file):
            tree.add(copyright_file)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
