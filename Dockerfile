# envoy2mqtt: Enphase Envoy -> MQTT bridge (with a broker: compose.yaml).
#   docker build -t envoy2mqtt .
#   docker run -d -v ./config:/config:ro -v envoy2mqtt-data:/data envoy2mqtt
# It reads /config/config.yaml as uid 10001: `chown 10001` the file (it may stay mode 0600)
# or keep the secrets in the environment instead, e.g. ENVOY2MQTT_MQTT__PASSWORD, and
# chmod 644 it. Tokens are cached in /data/tokens (keep /data in a volume).
# No embedded broker: the image installs envoy2mqtt without the [demo] extra.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY envoy2mqtt ./envoy2mqtt
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="envoy2mqtt" \
      org.opencontainers.image.description="Enphase Envoy / IQ Gateway to MQTT bridge with Home Assistant discovery" \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVOY2MQTT_TOKEN_CACHE_DIR=/data/tokens \
    ENVOY2MQTT_HEALTH__PORT=8099 \
    ENVOY2MQTT_HEALTH__BIND=127.0.0.1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && groupadd --system --gid 10001 envoy2mqtt \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --create-home envoy2mqtt \
    && mkdir -p /config /data/tokens && chown 10001:10001 /data /data/tokens \
    && chmod 0700 /data/tokens
# Numeric, so that runAsNonRoot-style checks can verify it without /etc/passwd.
USER 10001:10001
WORKDIR /data
VOLUME ["/config", "/data"]
# /healthz answers 200 while the bridge runs and its MQTT session is up (loopback only).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:8099/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["envoy2mqtt"]
CMD ["run", "--config", "/config/config.yaml"]
