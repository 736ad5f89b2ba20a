# One image, two processes: `margin mcp` (the MCP server) and `margin gateway` (see docker-compose.yml and
# deploy/kubernetes/). The base is pinned; replace it with `--build-arg NODE_IMAGE=…` (e.g. a mirror or a digest).
ARG NODE_IMAGE=node:22.23.5-bookworm-slim

# Dependencies and the ChatKit shell page (gateway/web), built with the dev dependencies.
FROM ${NODE_IMAGE} AS build
RUN npm install --global --no-fund --no-audit pnpm@12.21.0
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY gateway/package.json gateway/
COPY extension/package.json extension/
RUN pnpm install --frozen-lockfile --ignore-scripts --filter @margin/gateway...
COPY gateway gateway
RUN pnpm --filter @margin/gateway run build

# Production dependencies only, in a clean tree.
FROM build AS prod-deps
RUN rm -rf node_modules gateway/node_modules \
 && pnpm install --frozen-lockfile --prod --ignore-scripts --offline --filter @margin/gateway...

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 TZ=UTC
COPY --from=prod-deps /app/package.json /app/pnpm-workspace.yaml ./
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=prod-deps /app/gateway/node_modules gateway/node_modules
COPY gateway/package.json gateway/
COPY gateway/bin gateway/bin
COPY gateway/src gateway/src
COPY gateway/drizzle gateway/drizzle
COPY --from=build /app/gateway/web/dist gateway/web/dist
# The official node images' unprivileged user; numeric so Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 8787 8788
# /healthz of whichever server this container runs (the gateway on PORT, the MCP server on MCP_PORT).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "-e", "const p=[process.env.PORT||8787,process.env.MCP_PORT||8788];Promise.any(p.map(n=>fetch(`http://127.0.0.1:${n}/healthz`,{signal:AbortSignal.timeout(2500)}).then(r=>{if(!r.ok)throw 0}))).then(()=>process.exit(0),()=>process.exit(1))"]
ENTRYPOINT ["node", "gateway/bin/margin.js"]
CMD ["gateway"]
