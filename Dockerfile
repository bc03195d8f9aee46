# alliantiebot container image.
#
# Build:  docker build -t alliantiebot:0.1.0 --build-arg VERSION=0.1.0 \
#           --build-arg REVISION="$(git rev-parse HEAD)" --build-arg SOURCE=<repository URL> .
#
# DATA_KEY is required: the image runs with ENVIRONMENT=production, which refuses to
# start without it. Make one once, keep it safe and back it up with the database:
#   docker run --rm alliantiebot:0.1.0 \
#     python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
# and put it in an env file with a platform token (values without quotes):
#   DATA_KEY=<the key>
#   TELEGRAM_BOT_TOKEN=<from @BotFather>
# Run:    docker run -d --name alliantiebot --restart unless-stopped -p 8080:8080 \
#           -v alliantiebot-data:/app/data --env-file ./bot.env alliantiebot:0.1.0
#
# Without a platform token the container stops at once with one line and exit code 2
# (ALLOW_CONSOLE=false below: a detached container has nobody typing). To talk to the
# bot in a terminal: docker run --rm -it --env-file ./bot.env \
#   -v alliantiebot-data:/app/data alliantiebot:0.1.0 alliantiebot chat
# See docs/operations.md. No secret is baked into the image: tokens and DATA_KEY
# come from the environment at run time.

# --- builder: the dependencies, then the project (content/ as bot/_content), in a venv ---
FROM python:3.11-slim-bookworm AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

# The dependencies first, in a layer of their own, from the exact versions in the lock:
# a change to the code or the content reuses this layer. Every dependency ships
# manylinux wheels for CPython 3.11, so no compiler and no apt.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

# Then the project alone. Only what the wheel needs; .dockerignore keeps the rest out.
# pip check fails the build if the lock lacks a dependency pyproject.toml asks for.
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY content/ content/
RUN pip install --no-cache-dir --no-deps . \
    && pip check

# --- runtime: the venv and nothing else ---
FROM python:3.11-slim-bookworm AS runtime

# Set at build time (see the header); VERSION's default is pyproject.toml's version.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="alliantiebot" \
      org.opencontainers.image.description="Chat bot of the Alliantie Positieve Gezondheid Zuid-Holland Noord: Positive Health answers, spinnenweb check-ins, reminders" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.url="https://alliantiepg.nl" \
      org.opencontainers.image.vendor="Alliantie Positieve Gezondheid Zuid-Holland Noord" \
      org.opencontainers.image.licenses="EUPL-1.2" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"

# ENVIRONMENT=production: no start without DATA_KEY (no key file made on the server).
# ALLOW_CONSOLE=false: without a platform token `alliantiebot run` stops with one line
# (exit 2), instead of reading the empty input of a detached container, exiting 0 and
# being restarted over and over.
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:$PATH" \
    ENVIRONMENT=production \
    ALLOW_CONSOLE=false \
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
