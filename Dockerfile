# One image for the worker and the API (docker-compose.yml picks the command).
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends restic ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/contracts/package.json libs/contracts/
COPY workflows/package.json workflows/
COPY activities/package.json activities/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/console/package.json apps/console/
COPY test/package.json test/
RUN npm ci
COPY . .
RUN npm run build
USER node
