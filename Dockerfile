# The connector as a container image: `connector` is the entrypoint, `sync` the
# default command. State and mappings live on volumes; secrets come from the
# environment (an env file, a Kubernetes Secret), never from the image.
#
#   docker build -t map-connector .
#   docker run --rm map-connector --version
#   docker run --rm map-connector demo
#   docker run --rm --env-file connector.env \
#     -v connector-state:/var/lib/connector -v "$PWD/mappings:/etc/connector/mappings:ro" \
#     map-connector sync --format json

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY mappings ./mappings
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
LABEL org.opencontainers.image.title="map-salesforce-connector" \
      org.opencontainers.image.description="Reconciles a marketing automation platform with Salesforce" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONNECTOR_STATE=/var/lib/connector/state.db \
    CONNECTOR_MAPPINGS=/etc/connector/mappings \
    CONNECTOR_LOG_FORMAT=json
COPY --from=build /wheels /wheels
# the wheel pins every dependency exactly (pyproject.toml)
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/connector --shell /usr/sbin/nologin connector \
    && mkdir -p /var/lib/connector /etc/connector/mappings \
    && chown connector:connector /var/lib/connector \
    && chmod 0700 /var/lib/connector
USER 10001:10001
WORKDIR /var/lib/connector
# an empty mappings volume falls back to the bundled mappings, file by file
VOLUME ["/var/lib/connector", "/etc/connector/mappings"]
ENTRYPOINT ["connector"]
CMD ["sync"]
