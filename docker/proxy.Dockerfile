# kv proxy: the coordinator of the public API. How to run it: docs/docker.md.
# Build from the repository root:  docker build -f docker/proxy.Dockerfile -t kv-proxy .
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
RUN npx nx build proxy --output-style=static \
 && test -f dist/apps/proxy/main.js -a -f dist/apps/proxy/package.json -a -f dist/apps/proxy/package-lock.json \
 && test -f dist/apps/proxy/ui/index.html

# ---- runtime: the bundle and its production dependencies, nothing else of the workspace.
FROM node:20.20.2-alpine3.23
ARG VERSION=0.1.0
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="kv-proxy" \
      org.opencontainers.image.description="kv proxy: coordinator of the public API of kv, a replicated key-value store" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}"
# PORT is stated here, not left to the app's default, so that the HEALTHCHECK probes the port the app listens on.
ENV NODE_ENV=production DATA_DIR=/data PORT=8000
WORKDIR /app
# The lockfile Nx generated lists exactly the app's production dependencies, at the versions the workspace tested.
COPY --from=build /workspace/dist/apps/proxy/package.json /workspace/dist/apps/proxy/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# The source map stays beside the bundle: NODE_OPTIONS=--enable-source-maps gives TypeScript stack traces when needed,
# without paying for source-mapped stacks by default.
COPY --from=build /workspace/dist/apps/proxy/main.js /workspace/dist/apps/proxy/main.js.map ./
# The status page (GET /ui): one HTML file with its script and styles inline, read from beside the bundle.
COPY --from=build /workspace/dist/apps/proxy/ui/index.html ./ui/index.html
# The clock floor, the hints and the data nodes' incarnations. Owned by the unprivileged user; a new named volume
# inherits that ownership.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
# Application files stay owned by root: the process can read its code but not change it.
USER node
EXPOSE 8000
# SIGTERM is what the proxy handles to stop accepting, finish requests in flight and close the hint log.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT,path:'/health',timeout:2000},(r)=>process.exit(r.statusCode===200?0:1)).on('timeout',function(){this.destroy(new Error('timeout'))}).on('error',()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself; the proxy handles it (a shell in between would not forward it).
ENTRYPOINT ["node", "/app/main.js"]
