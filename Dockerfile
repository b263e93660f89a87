# mock-remd: an offline stand-in for the REMD registry (registerDocument SOAP, СЭМД validation, callbacks).
#
#   docker build -t mock-remd:0.1.0 .
#   docker run --rm -p 8080:8080 mock-remd:0.1.0
#
# Configured by environment only (MOCK_REMD_*; see README "Configuration"). Mount points:
#   /scenarios  scenario YAML files (the built-in library is there; mount yours over it, or POST /_admin/scenarios)
#   /packs      official XSD/Schematron packs (MOCK_REMD_PACKS_DIR): baked in with
#               docker build --build-arg PACKS=all .     (or PACKS="119 186"; PACKS_SOURCE=URL of a 1C-layout ZIP)
#               or mounted: -v ./packs:/packs:ro  (a folder made by mock-remd packs import|download)
#   /nsi        dictionary exports:            -v ./nsi:/nsi:ro     -e MOCK_REMD_NSI_DIR=/nsi
#   /data       the SQLite store (the working directory of the server); the server runs as uid 10001:
#               use a named volume, or a host folder that uid owns (chown -R 10001 DIR), else
#               `serve` stops with one sentence saying so
#
# Debian bookworm, pinned: trixie (today's python:3.11-slim) has no libengine-gost-openssl.
FROM python:3.11-slim-bookworm

# The GOST provider/engine for Streebog digests, from Debian (not pinned: Debian security updates
# replace the exact version in the archive, which would break the build).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libengine-gost-openssl \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/mock-remd
COPY pyproject.toml README.md ./
COPY mock_remd ./mock_remd
# the extra is written unquoted on purpose (hadolint reads a quoted spec as an unpinned package name)
# hadolint ignore=SC2102
RUN pip install --no-cache-dir /opt/mock-remd[postgres] \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/mockremd mockremd \
    && mkdir -p /data /packs /nsi \
    && chown mockremd:mockremd /data
COPY scenarios /scenarios

# Official packs baked into the image at build time (needs the network then; default: none, the
# xsd and schematron layers say so and name "mock-remd packs download"). Exit 1 = some packs refused:
# the others are installed and the build goes on.
ARG PACKS=""
ARG PACKS_SOURCE=""
# $kinds is split into kind codes on purpose
# hadolint ignore=SC2086
RUN if [ -n "$PACKS" ]; then \
        kinds=""; [ "$PACKS" = "all" ] || kinds="$PACKS"; \
        mock-remd packs download $kinds --dir /packs ${PACKS_SOURCE:+--source "$PACKS_SOURCE"} \
            || [ "$?" -eq 1 ]; \
    fi

ENV MOCK_REMD_HOST=0.0.0.0 \
    MOCK_REMD_PORT=8080 \
    MOCK_REMD_DB_URL=sqlite:////data/mock-remd.db \
    MOCK_REMD_SCENARIOS_DIR=/scenarios \
    MOCK_REMD_PACKS_DIR=/packs \
    MOCK_REMD_WORKERS=2

USER 10001
WORKDIR /data
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=12 \
    CMD ["python", "-m", "mock_remd.healthcheck"]
# prints "mock-remd ready on http://0.0.0.0:8080" once it serves; SIGTERM stops it gracefully
CMD ["mock-remd", "serve"]
