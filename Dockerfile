# One image, two processes: `margin mcp` (the MCP server) and `margin gateway` (see docker-compose.yml and
# deploy/kubernetes/). The base is pinned; replace it with `--build-arg NODE_IMAGE=…` (e.g. a mirror or a digest).
# Built with BuildKit (Docker's default builder): the stages run in parallel and share a pnpm store cache.
ARG NODE_IMAGE=node:22.23.5-bookworm-slim

FROM ${NODE_IMAGE} AS pnpm
RUN npm install --global --no-fund --no-audit --no-update-notifier pnpm@12.21.0
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
# pnpm-workspace.yaml's patchedDependencies (the postgres.js fix) are applied at install.
COPY patches patches
COPY gateway/package.json gateway/
COPY extension/package.json extension/

# The ChatKit shell page (gateway/web → gateway/web/dist), built with the dev dependencies.
FROM pnpm AS web
RUN --mount=type=cache,id=margin-pnpm-store,target=/pnpm-store \
    pnpm install --frozen-lockfile --ignore-scripts --store-dir /pnpm-store --filter @margin/gateway...
COPY gateway gateway
RUN pnpm --filter @margin/gateway run build

# The production dependencies only.
FROM pnpm AS prod-deps
RUN --mount=type=cache,id=margin-pnpm-store,target=/pnpm-store \
    pnpm install --frozen-lockfile --prod --ignore-scripts --store-dir /pnpm-store --filter @margin/gateway...

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 TZ=UTC
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=prod-deps /app/gateway/node_modules gateway/node_modules
COPY gateway/package.json gateway/
COPY gateway/bin gateway/bin
COPY gateway/drizzle gateway/drizzle
COPY gateway/src gateway/src
COPY --from=web /app/gateway/web/dist gateway/web/dist
# The official node images' unprivileged user, numeric so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 8787 8788
# /healthz of whichever server this container runs: the gateway on PORT, the MCP server on MCP_PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "-e", "Promise.any([process.env.PORT||8787,process.env.MCP_PORT||8788].map(p=>fetch(`http://127.0.0.1:${p}/healthz`).then(r=>{if(!r.ok)throw r.status}))).then(()=>process.exit(0),()=>process.exit(1))"]
# --experimental-async-context-frame: see gateway/bin/margin.js.
ENTRYPOINT ["node", "--experimental-async-context-frame", "gateway/bin/margin.js"]
CMD ["gateway"]
