# syntax=docker/dockerfile:1
# One image for every Ledgerflow process: `ledgerflow consume|work|api|migrate|produce|verify`.
#   docker build -t ledgerflow:0.1.0 .      the upstream base images below, pulled from their registries
#   npx tsx src/cli.ts image build          podman, with local stand-ins for them (docs/deploy.md)
# Health: no HEALTHCHECK here, because the port depends on the command (api 8080, consumer 9471,
# worker 9472, producer 9473) and Kubernetes ignores HEALTHCHECK; the Helm chart probes /healthz
# (liveness, startup) and /readyz (readiness) on each process's port instead.

# The base images are build arguments so that a machine which reaches package registries but no
# image registry can pass in stand-ins built from Debian packages and the official Node.js binary
# (`ledgerflow image bases`). Node.js 24 LTS: docs/decisions/017-image-runtime-base.md.
ARG BUILD_IMAGE=docker.io/library/node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# ---- install: every dependency, from the lock file (cached until the lock file changes) ----
FROM ${BUILD_IMAGE} AS install
WORKDIR /app
COPY package.json package-lock.json ./
# npm's download cache is a cache mount (kept between builds, never in a layer). A CA bundle given
# as the build secret `npm-ca` is added to what npm trusts, for networks whose TLS a proxy re-signs;
# it is mounted for this one step and never stored in the image.
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    --mount=type=secret,id=npm-ca,required=false \
    if [ -s /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi \
    && npm ci --no-audit --no-fund --prefer-offline

# ---- build: TypeScript -> dist/, the workflow bundles -> dist/workflow-bundles/ ----
FROM install AS build
COPY . .
# `npm run build` ends by bundling the workflow code (webpack) for tracing off and on, so a worker
# never bundles at start (its root filesystem is read-only). sql/ and grafana/ are copied into the
# final image; make sure they exist even when still empty.
RUN npm run build && mkdir -p sql grafana

# ---- deps: production dependencies only, native binaries for this platform only ----
FROM install AS deps
ENV NODE_ENV=production
# The Temporal core bridge ships a ~28 MB library per OS and CPU, usearch one per platform too;
# only this platform's are kept (the image test loads both). Rust sources are not needed to run.
RUN npm prune --omit=dev --no-audit --no-fund \
    && triple="$(uname -m)-unknown-linux-gnu" && platform="linux-$(node -p process.arch)" \
    && test -f "node_modules/@temporalio/core-bridge/releases/${triple}/index.node" \
    && test -f "node_modules/usearch/prebuilds/${platform}/usearch.node" \
    && find node_modules/@temporalio/core-bridge/releases -mindepth 1 -maxdepth 1 ! -name "${triple}" -exec rm -rf {} + \
    && find node_modules/usearch/prebuilds -mindepth 1 -maxdepth 1 ! -name "${platform}" -exec rm -rf {} + \
    && rm -rf node_modules/@temporalio/core-bridge/sdk-core

# ---- run: no shell, no package manager, non-root (65532 = distroless "nonroot") ----
# Everything under /app belongs to root and is only readable by the process; the chart also mounts
# the root filesystem read-only, with an emptyDir on /tmp. Secrets are env vars from Kubernetes
# Secrets (see the chart), never baked in.
FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production \
    PATH=/nodejs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LF_API_HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
# The lock file is part of the workflow bundles' key (src/worker/bundle.ts).
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/dist ./dist
COPY --from=build /app/sql ./sql
COPY --from=build /app/grafana ./grafana
USER 65532:65532
EXPOSE 8080 9471 9472 9473
# A larger young generation (a cap: V8 grows it only under load): a batch's objects live for one
# batch (~0.5 s) and then die young instead of being promoted and swept (bench/README.md; the
# benchmark's consumer and worker run with the same flags, SERVICE_NODE_FLAGS in src/bench).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=64", "dist/src/cli.js"]
CMD ["api"]
