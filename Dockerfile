# alliantiebot container image.
#
# Build:  docker build -t alliantiebot .
# Run:    docker run -d --name alliantiebot -p 8080:8080 -v alliantiebot-data:/app/data \
#           --env-file ./bot.env alliantiebot
# See docs/operations.md. No secret is baked into the image: tokens and DATA_KEY
# come from the environment at run time.

# --- builder: build the wheel (with content/ as bot/_content) into a venv ---
FROM python:3.11-slim-bookworm AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

# Only what the wheel needs; the rest is kept out by .dockerignore as well.
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY content/ content/

# Every dependency ships manylinux wheels for CPython 3.11, so no compiler and no apt.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && pip install --no-cache-dir "$(find /wheels -name 'alliantiebot-*.whl')[all]"

# --- runtime: the venv and nothing else ---
FROM python:3.11-slim-bookworm AS runtime

# ENVIRONMENT=production: no start without DATA_KEY (no key file made on the server).
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:$PATH" \
    ENVIRONMENT=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    MPLCONFIGDIR=/tmp/matplotlib

RUN groupadd --system --gid 10001 alliantiebot \
    && useradd --system --uid 10001 --gid alliantiebot --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin alliantiebot

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# The SQLite default (./data/alliantiebot.db), spinnenweb pictures (./data/images)
# and data exports (./data/exports) live here. The directory
# is created and owned before VOLUME, so a fresh named volume inherits the owner.
RUN mkdir -p /app/data && chown alliantiebot:alliantiebot /app/data && chmod 0700 /app/data
VOLUME ["/app/data"]

USER 10001:10001
EXPOSE 8080

# urllib, not curl (the slim image has none); an HTTP 503 raises, so exit 1 = unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HTTP_PORT', '8080') + '/healthz', timeout=4)"]

CMD ["alliantiebot", "run"]
