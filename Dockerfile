# syntax=docker/dockerfile:1
# The Hello World API image: Node.js and dist/ (one bundled file, no node_modules), run as the
# unprivileged `node` user. Build: docker build -t hello-world-api .
# CI here cannot build it (no image pulls); test/container.test.ts lints this file and runs its
# CMD and HEALTHCHECK from a folder laid out as this image's. See README "Container".
ARG NODE_VERSION=22

# Stage 1: install the exact lock file and bundle the server with esbuild.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Stage 2: what `node dist/server.js` needs, and nothing else.
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=6060
WORKDIR /app
# Owned by root and not writable by the user the server runs as.
COPY --from=build /app/dist ./dist
USER node
EXPOSE 6060
# No curl in the image: Node's own fetch. Exit 0 only for a 2xx from /healthz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 6060) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts the drain (SHUTDOWN_DRAIN_SECONDS, 5 s in production), then the server exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]
