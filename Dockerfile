# The kemu application image used by docker-compose.yml's `app` service. Kafka and MinIO run in their own containers.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY producers ./producers
COPY analytics ./analytics
COPY sinks ./sinks
RUN pip install . && useradd --create-home --uid 10001 kemu
USER kemu
EXPOSE 8000 4566
CMD ["kemu", "up"]
