# The kemu application image used by docker-compose.yml's `app` service. Kafka and MinIO run in their own containers.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The source is only built into a wheel and installed; the app then runs from the user's home, so it imports the
# installed package (with its data files), never a source tree that would shadow it.
COPY pyproject.toml README.md /tmp/kemu-src/
COPY emulator /tmp/kemu-src/emulator
COPY producers /tmp/kemu-src/producers
COPY analytics /tmp/kemu-src/analytics
COPY sinks /tmp/kemu-src/sinks
COPY foundation /tmp/kemu-src/foundation
RUN pip install /tmp/kemu-src \
 && rm -rf /tmp/kemu-src \
 && useradd --create-home --uid 10001 kemu \
 && mkdir -p /home/kemu/.cache/kemu \
 && chown -R kemu:kemu /home/kemu/.cache
USER kemu
WORKDIR /home/kemu
EXPOSE 8000 4566
CMD ["kemu", "up"]
