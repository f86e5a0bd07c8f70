# helpdesk-bot: docker build -t helpdesk-bot . ; see docs/deployment.md.

# Build the wheel in a throw-away stage: building it compiles the gettext catalogs, so the
# runtime image needs neither the sources nor build tools.
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
# The build tools (Babel compiles the catalogs) at the versions CI tested as well.
RUN PIP_CONSTRAINT=/src/requirements.lock pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Every dependency at the version CI tested.
COPY requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN pip install -c /tmp/requirements.lock /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels /tmp/requirements.lock \
    && useradd --system --uid 10001 --home-dir /var/lib/helpdesk-bot --shell /usr/sbin/nologin helpdesk-bot \
    && mkdir -p /var/lib/helpdesk-bot /data/attachments \
    && chown -R helpdesk-bot:helpdesk-bot /var/lib/helpdesk-bot /data

# The SQLite database and received files live in /data; with PostgreSQL only the attachments do.
ENV DATABASE_URL=sqlite+aiosqlite:////data/helpdesk.db \
    ATTACHMENTS_DIR=/data/attachments \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
VOLUME ["/data"]
WORKDIR /var/lib/helpdesk-bot
USER helpdesk-bot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('HTTP_PORT', '8080'), timeout=4)"]
CMD ["helpdesk-bot", "run"]
