# The action's image, in two forms built from the same steps:
# - the default (the last stage): what a runner builds for `uses: OWNER/REPO@main`
#   or a commit, every job, with the base pulled anyway; so it is the plain build:
#   the base, the packages, the source, the bytecode of what runs;
# - `--target release`: what a release pushes and runners pull instead of building,
#   where every byte pulled counts: the same files cut down to only what runs, FROM
#   scratch, with no shell and no package manager.
# The base is pinned by digest; Dependabot moves it forward through
# .github/base-image/Dockerfile. Tests build on an offline stand-in:
#   docker build --build-arg BASE=IMAGE [--target release] .
ARG BASE=python:3.13-slim@sha256:881d80734ee05dca6f7f42dcb080975652a53c7eda9ba1f03bb8da31aa6a6ec2
FROM ${BASE} AS plain
# No USER: GitHub runs container actions as root so they can write the workspace
# and the file-command files. No ENV either: the entry points run Python isolated
# (-I: a job's PYTHONPATH cannot reach in) and set their path.
ENTRYPOINT ["/app/bin/main"]
# The dependencies, hash-locked, binary-only, without dependency resolution (so
# actions-toolkit's PyGithub never enters), and without what the wheels carry that
# never runs (actions-toolkit's top-level tests package, console scripts). Before the
# source (the script that compiles comes along), so that a source change leaves this
# layer alone.
COPY requirements.txt scripts/image_bytecode.py /usr/local/share/xbearer/
RUN python -m pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore \
        --no-compile --require-hashes --no-deps --only-binary=:all: \
        --target /app/lib -r /usr/local/share/xbearer/requirements.txt \
    && rm -rf /app/lib/tests /app/lib/bin
# The source, then the bytecode of what the modes load, so that no run compiles
# anything: the script asks the interpreter what loads rather than keeping a list,
# and compiles nothing that never runs (see the script).
COPY src/ /app/
RUN /usr/local/bin/python -I -S /usr/local/share/xbearer/image_bytecode.py

# The release's files: this image's interpreter, the standard library that can run
# here, the packages, the action, the shared libraries they load, the few files glibc
# and OpenSSL read, licences; bytecode in place of the source it was compiled from,
# except the action's own (see the script).
FROM plain AS tree
COPY scripts/image_tree.py /usr/local/share/xbearer/
RUN /usr/local/bin/python -I -S /usr/local/share/xbearer/image_tree.py /rootfs

FROM scratch AS release
ENTRYPOINT ["/app/bin/main"]
COPY --from=tree /rootfs/ /

# The default, last: the plain image. BuildKit builds only the stages it needs.
FROM plain
