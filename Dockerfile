# The action's image. Tests swap the base for an offline stand-in:
#   docker build --build-arg BASE=local/python-standin:3.13 .
ARG BASE=python:3.13-slim

# Dependencies, hash-locked and binary-only; pip and its cache stay in this stage.
FROM ${BASE} AS deps
COPY requirements.txt /tmp/requirements.txt
RUN python -m pip install --no-cache-dir --disable-pip-version-check --no-compile \
        --require-hashes --no-deps --only-binary=:all: --target /deps -r /tmp/requirements.txt \
    && python -m compileall -q --invalidation-mode unchecked-hash /deps

FROM ${BASE}
ENV PYTHONPATH=/app/lib \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=deps /deps /app/lib
COPY src/bin /app/bin
COPY src/xbearer /app/lib/xbearer
RUN python -m compileall -q --invalidation-mode unchecked-hash /app/lib/xbearer
# No USER: GitHub runs container actions as root so they can write the
# workspace and the file-command files.
ENTRYPOINT ["/app/bin/main"]
