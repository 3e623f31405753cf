# aido-todo backend. Build from the repository root: `docker compose up --build`, or
# `docker build -t aido-backend .`. No BuildKit-only syntax, so any builder (buildah too) works.
#
# Two stages: `build` makes the package's wheel (migrations included: aido/migrations), the
# runtime stage installs it like any wheel. No source tree is copied into the runtime image.
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /build
COPY backend/pyproject.toml backend/pyproject.toml
COPY backend/src backend/src
# The build backend (hatchling, from pyproject.toml's build-system) is fetched by pip.
RUN pip wheel --no-deps --wheel-dir /wheels ./backend


FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A fixed uid so volume and file ownership is predictable across rebuilds.
RUN groupadd --system --gid 10001 aido \
 && useradd --system --uid 10001 --gid aido --home-dir /app --shell /usr/sbin/nologin aido

# Dependencies first, in their own layer: only a change to pyproject.toml or constraints.txt
# reinstalls them. The list is read from pyproject.toml itself (no second list to drift), at
# the versions the tests verified (constraints.txt); wheels only, because the slim image has
# no compiler and every dependency ships manylinux wheels.
COPY backend/pyproject.toml backend/constraints.txt /tmp/deps/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/deps/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/deps/requirements.txt \
 && pip install --only-binary=:all: -c /tmp/deps/constraints.txt -r /tmp/deps/requirements.txt

# The package, as a wheel: pip checks its dependencies are the ones above (nothing new is
# fetched) and compiles its bytecode as root (the aido user cannot write __pycache__).
COPY --from=build /wheels /tmp/wheels
RUN pip install --only-binary=:all: -c /tmp/deps/constraints.txt /tmp/wheels/aido-*.whl \
 && rm -rf /tmp/wheels /tmp/deps

# API_HOST: reachable through the published port. WEB_CONCURRENCY: uvicorn workers; the app's
# own fallback is os.cpu_count(), the host's count, too many connections for a small database.
ENV API_HOST=0.0.0.0 \
    API_PORT=8000 \
    WEB_CONCURRENCY=2 \
    LOG_FORMAT=json

USER aido
EXPOSE 8000

# /health is readiness: 200 only when the database answers. No curl in the slim image.
# Shell form on purpose: podman's Docker API splits exec-form health arguments at spaces
# (containers/podman#26519).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:${API_PORT:-8000}/health', timeout=4)"

# Waits for the database and applies migrations once (in a child process), then serves with
# uvicorn (WEB_CONCURRENCY workers, proxy headers honoured).
CMD ["python", "-m", "aido"]
