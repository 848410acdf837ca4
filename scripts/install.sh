#!/usr/bin/env bash
# The install command of the README: npm dependencies, with better-sqlite3 compiled against headers
# of exactly the running Node when no prebuilt binary can be downloaded, then the TypeScript build
# (npm's prepare step), after which `npx cdc` works from the checkout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CDC_CACHE_DIR="${CDC_CACHE_DIR:-$HOME/.cache/cdc}"
section() { printf '\n=== %s ===\n' "$*"; }

section "Node headers for native modules"
# better-sqlite3 has no reachable prebuilt binary here, so node-gyp compiles it and needs headers
# of exactly this Node; its own download of them from nodejs.org is unreachable too.
node_version=$(node -v)
system_headers=/usr/include/node/node_version.h
header_version() {
  awk '/define NODE_(MAJOR|MINOR|PATCH)_VERSION /{v[$2]=$3} END{printf "v%s.%s.%s", v["NODE_MAJOR_VERSION"], v["NODE_MINOR_VERSION"], v["NODE_PATCH_VERSION"]}' "$1"
}
if [[ "${CDC_FORCE_NODE_HEADERS_PKG:-0}" != 1 && -f "$system_headers" && "$(header_version "$system_headers")" == "$node_version" ]]; then
  export npm_config_nodedir=/usr
else
  # The npm package node-<os>-<arch> is a full Node distribution, include/node among it.
  pkg="node-linux-$(node -p process.arch)@${node_version#v}"
  dir="$CDC_CACHE_DIR/node-$node_version-$(node -p process.arch)"
  if [[ ! -f "$dir/.complete" ]]; then
    echo "fetching headers from npm package $pkg"
    rm -rf "$dir" && mkdir -p "$dir"
    tgz=$(cd "$dir" && npm pack --silent "$pkg")
    tar -xzf "$dir/$tgz" -C "$dir" --strip-components=1 package/include
    rm -f "$dir/$tgz"
    got=$(header_version "$dir/include/node/node_version.h")
    if [[ "$got" != "$node_version" ]]; then echo "headers in $pkg are $got, not $node_version" >&2; exit 1; fi
    touch "$dir/.complete"
  fi
  export npm_config_nodedir="$dir"
fi
echo "node $node_version, headers from $npm_config_nodedir"

section "npm dependencies"
if [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
