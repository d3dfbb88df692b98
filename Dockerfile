# One image for every service and the gateway; docker-compose.yml picks which one
# a container runs with `command:`. Only the runtime dependencies are installed
# (requirements.runtime.lock: no test tools, no local development servers).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.runtime.lock ./
RUN pip install --require-hashes -r requirements.runtime.lock

COPY shared ./shared
COPY services ./services

RUN useradd --system --uid 10001 --no-create-home contacthub
USER contacthub

CMD ["python", "-m", "services.gateway"]
