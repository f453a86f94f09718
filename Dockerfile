# syntax=docker/dockerfile:1

# The Section 19 gateway: one image for `gateway serve`, `gateway worker` and `gateway migrate`.
#   docker build -t ghcr.io/s19-gateway/gateway:0.1.0 .
# The image runs as UID 10001 with a read-only root filesystem in mind: everything it writes
# (spooled uploads, HOME) goes under /tmp, which the Helm chart mounts as an emptyDir.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:${PATH}

WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY adapters ./adapters
COPY mappings ./mappings
COPY simulators ./simulators
# pip compiles the bytecode here: at run time the root filesystem is read-only.
RUN pip install --no-cache-dir .

# The adapters read their WSDLs and JSON Schemas from contracts/ beside the installed packages
# (Path(__file__).parents[2] / "contracts"), so the contracts go into site-packages.
COPY contracts /opt/venv/lib/python3.11/site-packages/contracts
RUN python -c "import adapters.portal.notification as n; assert n.SCHEMA_PATH.is_file(), n.SCHEMA_PATH" \
 && python -c "import adapters.mosaic.client as m; assert m.DEFAULT_WSDL.is_file(), m.DEFAULT_WSDL" \
 && python -c "import adapters.providers.ukrlp as u; assert u.DEFAULT_WSDL.is_file(), u.DEFAULT_WSDL" \
 && gateway --help


FROM ${PYTHON_IMAGE} AS runtime

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="s19-gateway" \
      org.opencontainers.image.description="Section 19 interoperability gateway (API, delivery worker, migrations)" \
      org.opencontainers.image.version="${VERSION}"

ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    TMPDIR=/tmp

RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
        --shell /usr/sbin/nologin gateway

COPY --from=builder /opt/venv /opt/venv

WORKDIR /tmp
USER 10001:10001
EXPOSE 8000 8001

# No HEALTHCHECK: the same image runs the API (port 8000), the worker (8001) and one-shot
# migrations; Kubernetes probes each as the chart describes.
ENTRYPOINT ["gateway"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
