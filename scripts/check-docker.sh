#!/usr/bin/env bash
# Static checks of the Docker files, without a Docker engine (none runs in CI):
#  - docker-compose.yml validates with docker-compose 1.29 (`config -q`), and with `docker compose` (v2) when present;
#  - every docker/*.Dockerfile passes dockerfilelint;
#  - every FROM line names the same base image, so the three images run the same Node.js.
# What the services do with their settings is checked by apps/cluster-e2e/src/compose.spec.ts, which runs them.
# Exits non-zero on any issue.
set -uo pipefail
cd "$(dirname "$0")/.."

failures=0
fail() {
  echo "check-docker: $*" >&2
  failures=$((failures + 1))
}

# --- compose file ---
validators=0
if command -v docker-compose >/dev/null 2>&1; then
  validators=$((validators + 1))
  if docker-compose -f docker-compose.yml config -q; then
    echo "docker-compose.yml: valid for $(docker-compose version --short 2>/dev/null || echo docker-compose)"
  else
    fail "docker-compose.yml is invalid for docker-compose (see above)"
  fi
fi
if docker compose version >/dev/null 2>&1; then
  validators=$((validators + 1))
  if docker compose -f docker-compose.yml config -q; then
    echo "docker-compose.yml: valid for docker compose $(docker compose version --short 2>/dev/null)"
  else
    fail "docker-compose.yml is invalid for docker compose (see above)"
  fi
fi
if [ "$validators" -eq 0 ]; then
  fail "docker-compose is missing, so docker-compose.yml cannot be validated. Install it (no Docker engine needed):
  sudo apt-get update && sudo apt-get install -y --no-install-recommends docker-compose
or install Docker Compose v2 (the \`docker compose\` plugin)."
fi

# --- Dockerfiles ---
if ! npx --no-install dockerfilelint --version >/dev/null 2>&1; then
  fail "dockerfilelint is missing: run \"npm ci\" (it is a devDependency)"
else
  for dockerfile in docker/*.Dockerfile; do
    # Its exit code is the number of issues it found.
    if ! npx --no-install dockerfilelint "$dockerfile"; then
      fail "$dockerfile has dockerfilelint issues (see above)"
    fi
  done
fi

bases=$(grep -hiE '^FROM[[:space:]]' docker/*.Dockerfile | awk '{print $2}' | sort -u)
if [ "$(printf '%s\n' "$bases" | wc -l)" -ne 1 ]; then
  fail "the Dockerfiles name different base images; use one everywhere:
$bases"
else
  echo "docker/*.Dockerfile: one base image, $bases"
fi

if [ "$failures" -ne 0 ]; then
  echo "check-docker: $failures problem(s)" >&2
  exit 1
fi
echo "check-docker: ok"
