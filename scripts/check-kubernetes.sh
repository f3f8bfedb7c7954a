#!/usr/bin/env bash
# Static checks of deploy/kubernetes, without a cluster (none runs in CI). What always runs needs only Node.js and the
# npm packages of `npm ci`:
#  - the plain manifests of the base and of the Job (not the kustomizations) validate against the Kubernetes API
#    schemas (scripts/check-kubernetes-schema.mjs, with the kubernetes-models package).
# Extras with a system tool, by the rule of scripts/lib/require-tool.cjs (skipped with one line when the tool is
# missing, a failure under CI=true):
#  - `kubectl kustomize` (Debian package kubectl) renders the base, the production overlay and the Job, and every
#    rendered object validates against the same schemas.
# What the objects say (budgets, probes, secrets, security, the apps' settings) is checked by
# apps/cluster-e2e/src/kubernetes.spec.ts and kubernetes-local.spec.ts.
# Exits non-zero on any issue.
set -uo pipefail
cd "$(dirname "$0")/.."

failures=0
fail() {
  echo "check-kubernetes: $*" >&2
  failures=$((failures + 1))
}

manifests=()
for file in deploy/kubernetes/base/*.yaml deploy/kubernetes/jobs/*.yaml; do
  [ "$(basename "$file")" = kustomization.yaml ] || manifests+=("$file")
done
if ! node scripts/check-kubernetes-schema.mjs "${manifests[@]}"; then
  fail "a manifest of deploy/kubernetes does not follow the Kubernetes API schemas (see above)"
fi

# shellcheck disable=SC2016 # $dir is expanded by the inner bash, after require-tool found kubectl.
if ! node scripts/lib/require-tool.cjs "kubectl kustomize" kubectl kubectl -- bash -c '
  set -o pipefail
  status=0
  for dir in deploy/kubernetes/base deploy/kubernetes/overlays/production deploy/kubernetes/jobs; do
    echo "$dir: rendered by kubectl kustomize"
    kubectl kustomize "$dir" | node scripts/check-kubernetes-schema.mjs - || status=1
  done
  exit $status'; then
  fail "a kustomization of deploy/kubernetes does not render, or renders invalid objects, or kubectl is missing (see above)"
fi

if [ "$failures" -ne 0 ]; then
  echo "check-kubernetes: $failures problem(s)" >&2
  exit 1
fi
echo "check-kubernetes: ok"
