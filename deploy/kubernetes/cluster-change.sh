#!/usr/bin/env bash
# Changes the members of a kv cluster on Kubernetes: runs the Job of deploy/kubernetes/jobs (the client image, with
# the Secret's auth-token) with `kv cluster add|remove ... --wait` against the Service kv, follows its output, and
# exits 0 once the change is done (docs/kubernetes.md#adding-and-removing-data-nodes).
#
#   deploy/kubernetes/cluster-change.sh [-n NAMESPACE] [--image kv-client:TAG] add ORDINAL...
#   deploy/kubernetes/cluster-change.sh [-n NAMESPACE] [--image kv-client:TAG] remove ORDINAL...
#   deploy/kubernetes/cluster-change.sh [-n NAMESPACE] [--image kv-client:TAG] replace OLD NEW
#   deploy/kubernetes/cluster-change.sh [-n NAMESPACE] [--image kv-client:TAG] status
#   deploy/kubernetes/cluster-change.sh --render add|remove|replace|status ...   (prints the Job, creates nothing)
#
# ORDINAL is the number of a kv-node pod: `add 3` adds kv-node-3 at http://kv-node-3.kv-nodes:8001 (scale the
# StatefulSet up first); `remove 3` takes kv-node-3 out of the cluster map (scale the StatefulSet down after);
# `replace 1 3` puts kv-node-3 in kv-node-1's place in one change.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
namespace=""
image=""
render=false
usage() {
  sed -n '6,10p' "$0" | sed 's/^# *//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    -n | --namespace) namespace="${2:?}"; shift 2 ;;
    --image) image="${2:?}"; shift 2 ;;
    --render) render=true; shift ;;
    -h | --help) usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
action="$1"
shift

args=""
case "$action" in
  add | remove)
    [ $# -ge 1 ] || usage
    args="\"cluster\", \"$action\""
    for ordinal in "$@"; do
      case "$ordinal" in '' | *[!0-9]*) echo "cluster-change: $ordinal is not a pod ordinal (kv-node-<ordinal>)" >&2; exit 2 ;; esac
      if [ "$action" = add ]; then
        args="$args, \"kv-node-$ordinal=http://kv-node-$ordinal.kv-nodes:8001\""
      else
        args="$args, \"kv-node-$ordinal\""
      fi
    done
    args="$args, \"--wait\""
    ;;
  replace)
    [ $# -eq 2 ] || usage
    for ordinal in "$@"; do
      case "$ordinal" in '' | *[!0-9]*) echo "cluster-change: $ordinal is not a pod ordinal (kv-node-<ordinal>)" >&2; exit 2 ;; esac
    done
    args="\"cluster\", \"replace\", \"kv-node-$1\", \"kv-node-$2=http://kv-node-$2.kv-nodes:8001\", \"--wait\""
    ;;
  status)
    [ $# -eq 0 ] || usage
    args="\"cluster\", \"status\""
    ;;
  *) usage ;;
esac

# A kustomization of its own over the Job: a unique name, the arguments, the image. Beside jobs/, because kustomize
# takes a base by a relative path only.
work="$(mktemp -d "$here/.cluster-change-XXXXXX")"
trap 'rm -rf "$work"' EXIT
name="kv-cluster-$action-$(date -u +%Y%m%d%H%M%S)"
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  echo "  - ../jobs"
  if [ -n "$image" ]; then
    echo "images:"
    echo "  - name: kv-client"
    echo "    newName: ${image%:*}"
    [ "${image%:*}" != "$image" ] && echo "    newTag: ${image##*:}"
  fi
  echo "patches:"
  echo "  - target:"
  echo "      kind: Job"
  echo "      name: kv-cluster-change"
  echo "    patch: |-"
  echo "      - op: replace"
  echo "        path: /metadata/name"
  echo "        value: $name"
  echo "      - op: replace"
  echo "        path: /spec/template/spec/containers/0/args"
  echo "        value: [$args]"
} > "$work/kustomization.yaml"

if $render; then
  kubectl kustomize "$work"
  exit 0
fi

ns=()
[ -n "$namespace" ] && ns=(--namespace "$namespace")
kubectl kustomize "$work" | kubectl "${ns[@]}" create -f -
# Its output, from the start of the pod to the end of the change (the pod may wait for its image first).
kubectl "${ns[@]}" logs --follow --pod-running-timeout=5m "job/$name" || true
kubectl "${ns[@]}" wait --for=condition=complete --timeout=60s "job/$name" >/dev/null 2>&1 && exit 0
echo "cluster-change: job/$name did not complete; see: kubectl ${ns[*]} describe job/$name" >&2
exit 1
