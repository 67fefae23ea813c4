# The backend as an image: the TypeScript is compiled in a build stage; the runtime stage holds the compiled
# JavaScript and the production dependencies of the backend and the contracts package only (no tsx, no TypeScript),
# and runs as the unprivileged `node` user. backend/test/deploy/image.test.ts runs these same commands.
# Run it on PostgreSQL (DATABASE_URL): see compose.yaml and "Run it for real" in README.md.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY packages/contracts/package.json packages/contracts/
COPY backend/package.json backend/
RUN npm ci --workspace packages/contracts --workspace backend --no-audit --no-fund
COPY packages/contracts packages/contracts
COPY backend backend
RUN npm run build --workspace packages/contracts --workspace backend

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY backend/package.json backend/
RUN npm ci --omit=dev --omit=optional --workspace packages/contracts --workspace backend --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/packages/contracts/dist packages/contracts/dist
COPY --from=build /app/backend/dist backend/dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--conditions=compiled", "--max-old-space-size=512", "--max-semi-space-size=3", "--v8-pool-size=1", "backend/dist/main.js"]
