#!/usr/bin/env bash
# Checks that a library works as a published package, outside this workspace.
#
# Builds libs/<lib> with Nx, packs dist/libs/<lib> with `npm pack`, installs the tarball into an empty folder and runs
# smoke scripts there against the installed copy. Its dependencies on other libraries of this workspace (@kv/...),
# which no registry serves, are packed from their own builds and installed in the same command, as the libraries'
# READMEs tell users to; its other dependencies come from the registry, cached copies first. Smoke scripts:
#   *.cjs, *.js  run with node (CommonJS require)
#   *.mjs        run with node (ESM import)
#   *.ts         type-checked with the workspace's tsc against the installed declarations, under the "nodenext",
#                "node10" and "bundler" module resolutions, with the package's own .d.ts files checked too
#
# Usage: scripts/pack-check.sh <lib> [script...]
#   <lib>       a folder under libs/, e.g. ring
#   script...   smoke scripts to run; default: every .cjs, .js, .mjs and .ts file in libs/<lib>/pack-check/
#
# Exits 0 when every step passes, 1 on the first failure, 2 on bad usage. The temporary folder is always removed.
set -euo pipefail

usage() {
  echo "usage: $0 <lib> [script.cjs|script.js|script.mjs|script.ts ...]" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
lib=$1
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ "$lib" =~ ^[a-z0-9][a-z0-9-]*$ && -d "$root/libs/$lib" ]] || {
  echo "pack-check: no library libs/$lib" >&2
  exit 2
}

scripts=()
if [[ $# -gt 0 ]]; then
  for script in "$@"; do
    [[ -f "$script" ]] || {
      echo "pack-check: no such script $script" >&2
      exit 2
    }
    scripts+=("$(cd "$(dirname "$script")" && pwd)/$(basename "$script")")
  done
else
  shopt -s nullglob
  scripts=("$root/libs/$lib/pack-check/"*.{cjs,js,mjs,ts})
  shopt -u nullglob
fi
[[ ${#scripts[@]} -gt 0 ]] || {
  echo "pack-check: no smoke scripts given and none in libs/$lib/pack-check/" >&2
  exit 2
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pack-check-$lib.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
step="start"
trap 'echo "pack-check: FAILED at step: $step" >&2; exit 1' ERR

tsc="$root/node_modules/.bin/tsc"
dist="$root/dist/libs/$lib"

step="nx build $lib"
echo "pack-check: $step"
(cd "$root" && NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false npx nx build "$lib" --output-style=static >"$tmp/build.log" 2>&1) || {
  cat "$tmp/build.log" >&2
  false
}

step="npm pack $dist"
echo "pack-check: $step"
mkdir "$tmp/pack"
(cd "$root" && npm pack "$dist" --pack-destination "$tmp/pack" --silent >/dev/null)
tarballs=("$tmp/pack/"*.tgz)
[[ ${#tarballs[@]} -eq 1 && -f "${tarballs[0]}" ]]
tarball=${tarballs[0]}

step="tarball contents"
# What a consumer needs is there; what only the workspace needs (specs, test fixtures, sources) is not.
listing=$(tar -tzf "$tarball")
for required in package.json index.js index.d.ts README.md; do
  grep -qx "package/$required" <<<"$listing" || {
    echo "pack-check: package/$required is missing from $(basename "$tarball")" >&2
    false
  }
done
if grep -E '\.spec\.|/testing/|\.ts$' <<<"$listing" | grep -v '\.d\.ts$'; then
  echo "pack-check: the files above should not be published" >&2
  false
fi
echo "pack-check: $(basename "$tarball"): $(wc -l <<<"$listing") files"

step="pack workspace dependencies"
# The @kv/* dependencies of the built package, and theirs in turn: each is libs/<name>, built by `nx build $lib`
# (build depends on ^build). A missing folder or build fails here rather than as a registry lookup of a stranger's
# package of the same name.
workspace_deps=$(cd "$root" && node -e '
  const fs = require("node:fs");
  const seen = new Set();
  const queue = [process.argv[1]];
  while (queue.length > 0) {
    const pkg = JSON.parse(fs.readFileSync(`dist/libs/${queue.shift()}/package.json`, "utf8"));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!dep.startsWith("@kv/")) continue;
      const name = dep.slice("@kv/".length);
      if (seen.has(name)) continue;
      seen.add(name);
      queue.push(name);
    }
  }
  console.log([...seen].join(" "));
' "$lib")
dep_tarballs=()
for dep in $workspace_deps; do
  [[ -f "$root/dist/libs/$dep/package.json" ]] || {
    echo "pack-check: @kv/$dep is a dependency of @kv/$lib but dist/libs/$dep was not built" >&2
    false
  }
  mkdir "$tmp/pack-$dep"
  (cd "$root" && npm pack "dist/libs/$dep" --pack-destination "$tmp/pack-$dep" --silent >/dev/null)
  dep_tarballs+=("$tmp/pack-$dep/"*.tgz)
  echo "pack-check: with @kv/$dep ($(basename "${dep_tarballs[-1]}"))"
done

step="npm install into an empty folder"
echo "pack-check: $step"
consumer="$tmp/consumer"
mkdir "$consumer"
printf '{ "name": "pack-check-consumer", "version": "0.0.0", "private": true }\n' >"$consumer/package.json"
# @types/node as well: the libraries are for Node.js, and their declarations name Node's types (Buffer, streams), as
# any TypeScript service on Node has them.
(cd "$consumer" && npm install "$tarball" ${dep_tarballs[@]+"${dep_tarballs[@]}"} @types/node@20 --prefer-offline --no-audit --no-fund --no-package-lock --loglevel=error)

for script in "${scripts[@]}"; do
  name=$(basename "$script")
  # A copy inside the consumer folder resolves the package from its node_modules, never from the workspace.
  cp "$script" "$consumer/$name"
  case "$name" in
    *.cjs | *.js | *.mjs)
      step="node $name"
      echo "pack-check: $step"
      (cd "$consumer" && node "./$name")
      ;;
    *.ts)
      for resolution in nodenext node10 bundler; do
        step="tsc $name ($resolution)"
        echo "pack-check: $step"
        case "$resolution" in
          nodenext) module=nodenext ;;
          node10) module=commonjs ;;
          bundler) module=esnext ;;
        esac
        cat >"$consumer/tsconfig.pack-check.json" <<JSON
{
  "compilerOptions": {
    "strict": true,
    "noEmit": true,
    "target": "ES2022",
    "lib": ["ES2022"],
    "module": "$module",
    "moduleResolution": "$resolution",
    "types": ["node"],
    "skipLibCheck": false
  },
  "files": ["$name"]
}
JSON
        (cd "$consumer" && "$tsc" -p tsconfig.pack-check.json)
      done
      ;;
    *)
      echo "pack-check: do not know how to run $name (expected .cjs, .js, .mjs or .ts)" >&2
      false
      ;;
  esac
done

echo "pack-check: $lib OK (${#scripts[@]} smoke script(s) passed against $(basename "$tarball"))"
