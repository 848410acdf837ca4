# The cdc connector image used by docker-compose.yml.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY common ./common
COPY compaction ./compaction
COPY source-postgres ./source-postgres
COPY sink-sqlite ./sink-sqlite
COPY cli ./cli
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
USER node
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
