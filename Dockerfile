# One image for every Cloud Store service; docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CLOUDSTORE_CONFIG_DIR=/app/config CLOUDSTORE_VAR_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY authserver authserver
COPY resource_api resource_api
COPY bridge_gateway bridge_gateway
COPY shared shared
COPY cloudstore cloudstore
COPY config config
RUN pip install --no-cache-dir . && useradd --system --home /data cloudstore && mkdir -p /data && chown cloudstore /data
USER cloudstore
