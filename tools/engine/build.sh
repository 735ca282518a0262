#!/usr/bin/env bash
# make engine: what the real-CLI tests run on, built once per machine into .pulumi/ (ignored by git).
#   .pulumi/bin/   the Pulumi CLI (pkg/v3, pinned in go.mod), the SDK's two Python scripts (pinned sdk/v3),
#                  our Python language host (language_host.py), the YAML language host (pulumi-yaml, pinned
#                  in yaml/go.mod, a module of its own) and our Node.js language host (nodejs/, built in
#                  this module against the CLI's own pkg/v3 and sdk/v3), and fc-invocation-gensdk, the
#                  Python SDK generator that our Python host calls for GeneratePackage.
#   .pulumi/node/  node_modules for TypeScript programs (@pulumi/pulumi, typescript, ts-node, pinned in
#                  node/package.json), and .pulumi/npm-cache/, the npm cache that install filled: tests
#                  run `npm install` offline against it, so they never reach the registry.
# Each part has a marker of its pins (.pulumi/bin/.pinned, .pulumi/node/.pinned); an unchanged part is
# reused ("up to date"), a changed pin rebuilds it. The Python host, a script, is compared on every run.
# Usage: build.sh <python>            everything
#        build.sh --node-only <python> only .pulumi/node (for a contributor who names a CLI with
#                                      FC_INVOCATION_PULUMI: the official CLI ships its language hosts)
set -euo pipefail
node_only=false
if [ "${1:-}" = "--node-only" ]; then node_only=true; shift; fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${1:?usage: build.sh [--node-only] <python>}"
python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
dest="$root/.pulumi/bin"
node_dest="$root/.pulumi/node"
npm_cache="$root/.pulumi/npm-cache"
hash16() { sha256sum "$@" | sha256sum | cut -c1-16; }

# go build -v names each package as it is compiled: show one line in 100 so a build is visibly alive.
go_build() {
    local what="$1"; shift
    go build -v -trimpath "$@" 2>&1 |
        awk -v what="$what" '/^(#|go: |.*\.go:)/ { print; next } { n++; if (n % 100 == 0) { printf "engine: %s: %d packages compiled\n", what, n; fflush() } }'
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "engine: go build of $what failed" >&2; exit 1; }
}

build_go() {
    cd "$here"
    local pkg_version yaml_version want start step
    pkg_version="$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
    yaml_version="$(cd yaml && go list -m -f '{{.Version}}' github.com/pulumi/pulumi-yaml)"
    want="pkg/v3 $pkg_version; sdk/v3 $(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3); $(go version); go.sum $(sha256sum go.sum | cut -c1-16); pulumi-yaml $yaml_version $(hash16 yaml/go.mod yaml/go.sum); nodejs host and gensdk $(hash16 nodejs/*.go gensdk/*.go internal/gen/*.go)"
    if [ -x "$dest/pulumi" ] && [ -f "$dest/.pinned" ] && [ "$(cat "$dest/.pinned")" = "$want" ]; then
        echo "engine: up to date in .pulumi/bin ($pkg_version, pulumi-yaml $yaml_version)"
        return
    fi
    mkdir -p "$dest"
    rm -f "$dest/.pinned"
    start=$SECONDS
    echo "engine: downloading the modules of pulumi $pkg_version (first run on a machine: about 1.5 minutes)"
    go mod download
    echo "engine: compiling the pulumi CLI (first run on a machine: about 5 minutes on 2 cores)"
    local ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pkg_version"
    go_build "pulumi" -ldflags "$ldflags" -o "$dest/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    echo "engine: the pulumi CLI took $((SECONDS - start)) s"
    step=$SECONDS
    echo "engine: compiling the Node.js language host and the Python host's SDK generator (share the CLI's build cache)"
    go_build "pulumi-language-nodejs" -ldflags "$ldflags" -o "$dest/pulumi-language-nodejs" ./nodejs
    go_build "fc-invocation-gensdk" -ldflags "$ldflags" -o "$dest/fc-invocation-gensdk" ./gensdk
    echo "engine: the Node.js host and the SDK generator took $((SECONDS - step)) s"
    step=$SECONDS
    echo "engine: building the YAML language host, pulumi-yaml $yaml_version (first run on a machine: about 3 minutes)"
    (cd yaml && go mod download && go_build "pulumi-language-yaml" \
        -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version" \
        -o "$dest/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml)
    echo "engine: the YAML host took $((SECONDS - step)) s"
    local sdk_dir
    sdk_dir="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
    install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$dest/pulumi-language-python-exec"
    install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$dest/pulumi-resource-pulumi-python"
    "$dest/pulumi" version >/dev/null
    "$dest/pulumi-language-nodejs" -version >/dev/null
    echo "$want" > "$dest/.pinned"
    echo "engine: built pulumi $("$dest/pulumi" version) and its Python, YAML and Node.js hosts in $((SECONDS - start)) s; $(du -sh "$dest" | cut -f1) in .pulumi/bin"
}

# Our Python language host is a script, compared on every run (no pin): changing it never rebuilds Go,
# and an unchanged one is left alone without a word.
install_python_host() {
    { echo "#!$python"; cat "$here/language_host.py"; } > "$dest/pulumi-language-python.tmp"
    chmod 0755 "$dest/pulumi-language-python.tmp"
    if cmp -s "$dest/pulumi-language-python.tmp" "$dest/pulumi-language-python"; then
        rm -f "$dest/pulumi-language-python.tmp"
        return
    fi
    mv -f "$dest/pulumi-language-python.tmp" "$dest/pulumi-language-python"
    echo "engine: installed the Python language host (tools/engine/language_host.py, run by $python)"
}

build_node() {
    if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        echo "make engine: needs node and npm for the TypeScript programs of the real-CLI tests" >&2
        exit 1
    fi
    local want start
    want="node $(node --version); npm $(npm --version); package.json $(hash16 "$here/node/package.json")"
    if [ -f "$node_dest/.pinned" ] && [ "$(cat "$node_dest/.pinned")" = "$want" ]; then
        echo "engine: up to date in .pulumi/node ($(node -p "require('$node_dest/node_modules/@pulumi/pulumi/package.json').version" 2>/dev/null || echo '?'))"
        return
    fi
    start=$SECONDS
    echo "engine: installing @pulumi/pulumi, typescript and ts-node from npm into .pulumi/node (about 30 s)"
    # No lockfile on purpose: a lockfile install skips the package documents that a later offline
    # `npm install` (without that lockfile) needs to resolve versions. This install fills the cache
    # with exactly what the tests' offline installs resolve to; the direct dependencies are exact pins.
    rm -rf "$node_dest.tmp"
    mkdir -p "$node_dest.tmp" "$npm_cache"
    cp "$here/node/package.json" "$node_dest.tmp/package.json"
    (cd "$node_dest.tmp" && npm install --cache "$npm_cache" --no-package-lock --no-audit --no-fund \
        --no-update-notifier --loglevel=error)
    (cd "$node_dest.tmp" && node -e "require.resolve('@pulumi/pulumi/cmd/run'); require.resolve('ts-node'); require.resolve('typescript')")
    rm -rf "$node_dest"
    mv "$node_dest.tmp" "$node_dest"
    echo "$want" > "$node_dest/.pinned"
    echo "engine: installed .pulumi/node in $((SECONDS - start)) s; $(du -sh "$node_dest" | cut -f1) in .pulumi/node, $(du -sh "$npm_cache" | cut -f1) in .pulumi/npm-cache"
}

if ! $node_only; then build_go; install_python_host; fi
build_node
