# kv CLI (`kv set|get|del|status|bench|batch`, docs/cli.md) in an image. How to run it: docs/docker.md.
# Build from the repository root:  docker build -f docker/client.Dockerfile -t kv-client .
# Use:  docker run --rm --init --network <compose network> kv-client get mykey   (or: docker compose run --rm client ...)
#
# Base image: node:20.20.2-alpine3.23, the Node.js release the toolchain is tested with, on a fixed Alpine release. A
# full version tag rather than a digest: a rebuild gets the image maintainers' security rebuilds of that same Node and
# Alpine, and the tag says what runs. All FROM lines of docker/*.Dockerfile name the same image (check-docker.sh).

# ---- manifests: the package.json files and the lockfile alone, so that the dependency layer of the build stage
# stays cached while only sources change (COPY --from compares contents, and these are the same).
FROM node:20.20.2-alpine3.23 AS manifests
WORKDIR /src
COPY . .
RUN find . -name package.json -not -path '*/node_modules/*' \
      -exec sh -c 'mkdir -p "/manifests/${1%/*}" && cp "$1" "/manifests/$1"' _ {} \; \
 && cp package-lock.json /manifests/ \
 && if [ -f .npmrc ]; then cp .npmrc /manifests/; fi

# ---- build: the whole workspace; Nx bundles the app with esbuild and writes its pruned package.json and lockfile.
FROM node:20.20.2-alpine3.23 AS build
WORKDIR /workspace
ENV NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false CI=true
COPY --from=manifests /manifests/ ./
# --ignore-scripts: the toolchain needs no install script (esbuild and nx ship their binaries as optional packages,
# musl builds included), and a build that runs none cannot be changed by a dependency's script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npx nx build client --output-style=static \
 && test -f dist/apps/client/main.js -a -f dist/apps/client/package.json -a -f dist/apps/client/package-lock.json

# ---- runtime: the bundle and its production dependencies, nothing else of the workspace.
FROM node:20.20.2-alpine3.23
ARG VERSION=0.1.0
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="kv-client" \
      org.opencontainers.image.description="kv CLI: command-line client of kv, a replicated key-value store" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}"
# The proxy's name and port in docker-compose.yml; --server or another KV_SERVER points it elsewhere.
ENV NODE_ENV=production KV_SERVER=http://proxy:8000
WORKDIR /app
# The lockfile Nx generated lists exactly the app's production dependencies, at the versions the workspace tested.
COPY --from=build /workspace/dist/apps/client/package.json /workspace/dist/apps/client/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /workspace/dist/apps/client/main.js /workspace/dist/apps/client/main.js.map ./
USER node
# Exec form, so that the arguments of `docker run IMAGE ...` are the CLI's arguments. Run it with an init process
# (`docker run --init`, `init: true` in compose): as PID 1 node ignores a Ctrl-C that the CLI does not handle itself.
ENTRYPOINT ["node", "/app/main.js"]
CMD ["--help"]
