# The action's image: only what runs. The first stage (`build`) installs on the
# base and assembles that tree in /rootfs, with the bytecode of what the packages
# load in place of its source; the second (`compiled`) adds the source to that tree
# and, chrooted into it, compiles what the modes load beyond; the final stage is
# FROM scratch with the tree and, apart, the source and that bytecode: no shell, no
# package manager. The base is pinned
# by digest (python:3.13-slim, Python 3.13.15 on Debian trixie, as of September
# 2026; Dependabot moves it forward). Tests build on an offline stand-in:
#   docker build --build-arg BASE=IMAGE .
# To look inside, put the image's files in a base that has a shell: see
# CONTRIBUTING.md, "Inside the image".
ARG BASE=python:3.13-slim@sha256:881d80734ee05dca6f7f42dcb080975652a53c7eda9ba1f03bb8da31aa6a6ec2
FROM ${BASE} AS build
# Dependencies, hash-locked, binary-only, without dependency resolution (so
# actions-toolkit's PyGithub never enters); no pip cache is kept, nor what the
# wheels carry that never runs (actions-toolkit's top-level tests package,
# console scripts). Then the tree of the final image: the interpreter the entry
# points name, the standard library, the packages, the shared libraries they
# load, the files glibc and OpenSSL read at start, licences (see the script).
# Then the bytecode of what the packages load, in place of its source (see
# scripts/image_bytecode.py). One step, one copy: each step costs a container or
# a layer; the install runs while the script copies the interpreter's part, and
# /app, now in the tree, is left out of this layer.
COPY requirements.txt scripts/image_tree.py scripts/image_bytecode.py /usr/local/share/xbearer/
RUN /usr/local/bin/python -I -S /usr/local/share/xbearer/image_tree.py /rootfs -- sh -c ' \
        python -m pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore \
            --no-compile --require-hashes --no-deps --only-binary=:all: \
            --target /app/lib -r /usr/local/share/xbearer/requirements.txt \
        && rm -rf /app/lib/tests /app/lib/bin' \
    && /usr/local/bin/python -I -S /usr/local/share/xbearer/image_bytecode.py --packages /rootfs \
    && rm -rf /app

# The source, to ship as it is (/out/app), and the bytecode of what the modes load
# beyond the packages' (see the script), written to /out by the image's own
# interpreter on the image's own files: the tree with the source in it, chrooted
# into, with no environment, as the final image sets none. The script stays in this
# stage. BuildKit copies the tree into the final stage meanwhile.
FROM build AS compiled
COPY src/ /rootfs/out/app/
RUN cp -a /rootfs/out/app/. /rootfs/app/ \
    && cp /usr/local/share/xbearer/image_bytecode.py /rootfs/tmp/ \
    && env -i /usr/sbin/chroot /rootfs /usr/local/bin/python -I -S -B /tmp/image_bytecode.py /out

FROM scratch
# No USER: GitHub runs container actions as root so they can write the
# workspace and the file-command files. No ENV either: the entry points run
# Python isolated (-I: a job's PYTHONPATH cannot reach in) and set their path.
# The entry point first, so that a source change does not redo it. Then two
# layers: the tree, which a source change leaves alone, then the small one it
# rebuilds: the source and the bytecode of what the modes load beyond the packages'.
ENTRYPOINT ["/app/bin/main"]
COPY --from=build /rootfs/ /
COPY --from=compiled /rootfs/out/ /
