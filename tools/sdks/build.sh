#!/usr/bin/env bash
# make sdks: the SDKs of the fc-invocation plugin, generated from schema.json by fc-invocation-gensdk (pkg/v3's
# code generators at the CLI's version; make engine builds it), as they are published, into .pulumi/sdks/:
#   nodejs/pulumi-fc-invocation-<version>.tgz            the TypeScript SDK, compiled with .pulumi/node's tsc, npm pack
#   python/pulumi_fc_invocation_sdk-<version>-*.whl      the Python SDK, pip wheel
#   go/                                                  the Go SDK's source (generated, not compiled here)
# Each names plugin fc-invocation at the schema's version, the one `python -m pulumi_fc_invocation.plugin
# --install` installs. No C#: its generator is not in pkg/v3. A marker of the inputs (.pulumi/sdks/.pinned)
# makes an unchanged build "up to date"; the last line of stdout is the output directory.
# Usage: build.sh <python>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${1:?usage: build.sh <python>}"
gensdk="$root/.pulumi/bin/fc-invocation-gensdk"
node_modules="$root/.pulumi/node/node_modules"
dest="$root/.pulumi/sdks"
for need in "$gensdk" "$node_modules/typescript/bin/tsc"; do
    [ -e "$need" ] || { echo "make sdks: no $need: run make engine first" >&2; exit 1; }
done
command -v npm >/dev/null 2>&1 || { echo "make sdks: needs npm" >&2; exit 1; }
mkdir -p "$root/.pulumi"
# One build at a time on a machine (several test runs may share this tree): wait for the other one.
if command -v flock >/dev/null 2>&1; then exec 9>"$root/.pulumi/sdks.lock"; flock 9; fi
version="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$root/schema.json")"
want="schema $(sha256sum "$root/schema.json" | cut -c1-16); gensdk $(sha256sum "$gensdk" | cut -c1-16); build.sh $(sha256sum "$0" | cut -c1-16); $(cat "$root/.pulumi/node/.pinned"); $("$python" --version)"
if [ -f "$dest/.pinned" ] && [ "$(cat "$dest/.pinned")" = "$want" ]; then
    echo "sdks: up to date in .pulumi/sdks (fc-invocation $version)"
    echo "$dest"
    exit 0
fi
start=$SECONDS
work="$(mktemp -d "$root/.pulumi/sdks.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/nodejs" "$work/python"
for language in nodejs python go; do
    "$gensdk" sdk "$language" "$root/schema.json" "$work/src/$language"
done
echo "sdks: generated the TypeScript, Python and Go SDKs of fc-invocation $version"

# TypeScript: compile as a provider's release does (tsc into bin/, package.json beside), then npm pack bin/.
(cd "$work/src/nodejs" && ln -s "$node_modules" node_modules && node node_modules/typescript/bin/tsc \
    && cp package.json bin/ && { [ ! -f README.md ] || cp README.md bin/; } && rm node_modules)
(cd "$work/nodejs" && npm pack --silent --pack-destination . "$work/src/nodejs/bin" >/dev/null)
# Python: a wheel (setuptools in pip's build isolation, from the package index or pip's cache).
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$work/python" "$work/src/python"
mv "$work/src/go" "$work/go"
rm -rf "$work/src"
echo "$want" > "$work/.pinned"
rm -rf "$dest"
mv "$work" "$dest"
echo "sdks: built $(cd "$dest" && ls nodejs/*.tgz python/*.whl | tr '\n' ' ')in $((SECONDS - start)) s"
echo "$dest"
