#!/usr/bin/env bash
# Static checks of the Docker files, without a Docker engine (none runs in CI). What always runs needs only Node.js and
# the npm packages of `npm ci`:
#  - docker-compose.yml validates against the Compose Specification's JSON schema (scripts/check-compose-schema.mjs);
#  - every docker/*.Dockerfile passes dockerfilelint;
#  - every FROM line names the same base image, so the three images run the same Node.js.
# Extras with system tools, by the rule of scripts/lib/require-tool.cjs (skipped with one line when the tool is
# missing, a failure under CI=true):
#  - docker-compose 1.29 (`config -q`, Debian package docker-compose) validates docker-compose.yml as it reads it;
#  - `docker compose` (v2), when the Docker CLI has that plugin, does the same (no line when it has not: it is an
#    alternative to docker-compose, which CI installs).
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
if ! node scripts/check-compose-schema.mjs docker-compose.yml; then
  fail "docker-compose.yml does not follow the Compose Specification (see above)"
fi
# shellcheck disable=SC2016 # $(...) is expanded by the inner bash, after require-tool found docker-compose.
if ! node scripts/lib/require-tool.cjs "docker-compose config" docker-compose docker-compose -- bash -c '
  docker-compose -f docker-compose.yml config -q &&
    echo "docker-compose.yml: valid for docker-compose $(docker-compose version --short 2>/dev/null)"'; then
  fail "docker-compose.yml is invalid for docker-compose, or docker-compose is missing (see above)"
fi
if docker compose version >/dev/null 2>&1; then
  if docker compose -f docker-compose.yml config -q; then
    echo "docker-compose.yml: valid for docker compose $(docker compose version --short 2>/dev/null)"
  else
    fail "docker-compose.yml is invalid for docker compose (see above)"
  fi
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
