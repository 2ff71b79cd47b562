# syntax=docker/dockerfile:1
# One image for every Ledgerflow process: `ledgerflow consume|work|api|migrate|produce`.
#   docker build -t ledgerflow . && docker run --rm ledgerflow api
# Health: no HEALTHCHECK here, because the port depends on the command (api 8080, consumer 9471,
# worker 9472, producer 9473) and Kubernetes ignores HEALTHCHECK; the Helm chart probes /healthz
# (liveness, startup) and /readyz (readiness) on each process's port instead.

# ---- build: all dependencies, TypeScript -> dist/ ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# sql/ and grafana/ are copied into the final image; make sure they exist even when still empty.
RUN npm run build && mkdir -p sql grafana

# ---- deps: production dependencies only ----
FROM node:20-bookworm-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- run: no shell, no package manager, non-root (65532 = distroless "nonroot") ----
# Secrets are env vars from Kubernetes Secrets (see the chart), never baked in.
FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production \
    PATH=/nodejs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LF_API_HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
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
