# One image, two processes: `margin mcp` and `margin gateway` (see docker-compose.yml).
FROM node:22-slim
RUN npm install --global pnpm@12.21.0
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY gateway/package.json gateway/
COPY extension/package.json extension/
RUN pnpm install --frozen-lockfile --prod --filter @margin/gateway...
COPY gateway gateway
ENV NODE_ENV=production HOST=0.0.0.0 TZ=UTC
USER node
ENTRYPOINT ["node", "gateway/bin/margin.js"]
