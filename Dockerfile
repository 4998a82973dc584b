# One image for the worker, the API and the store's one-shot migration (docker-compose.yml picks
# the command). Builds with the committed lock file as it is.

# Every workspace's package.json (libs/*, apps/*, workflows, activities, test, bench), paths kept:
# `npm ci` refuses a lock whose workspaces it cannot find, and listing them by hand goes stale.
FROM node:20-bookworm AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
  && find . -name package.json -not -path '*/node_modules/*' -not -path './.git/*' -exec cp --parents {} /manifests/ \; \
  && cp package-lock.json /manifests/

# The full bookworm image has python3, make and g++ for native modules without a prebuilt binary.
FROM node:20-bookworm AS build
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
  # The workers load this bundle instead of bundling the workflows at every start.
  && node -e "require('./apps/worker/dist/bundle').bundleRunbookWorkflows().then((b) => require('fs').writeFileSync('workflow-bundle.js', b.code))" \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends restic ipmitool ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
ENV NODE_ENV=production RUNBOOKS_WORKFLOW_BUNDLE=/app/workflow-bundle.js
# A named volume mounted here starts with this folder's owner: the unprivileged user must write it.
RUN mkdir -p /var/lib/runbooks && chown node:node /var/lib/runbooks
USER node
