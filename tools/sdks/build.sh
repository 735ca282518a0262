#!/usr/bin/env bash
# make sdks: the SDKs of the fc-invocation plugin, generated from schema.json as they are published, into
# .pulumi/sdks/ (or DEST):
#   nodejs/pulumi-fc-invocation-<version>.tgz            the TypeScript SDK, compiled with .pulumi/node's tsc, npm pack
#   python/pulumi_fc_invocation_sdk-<version>-*.whl      the Python SDK, pip wheel
#   go/                                                  the Go SDK's source (generated, not compiled here)
# The generator: with FC_INVOCATION_PULUMI (a contributor without Go, as in make engine), that CLI's
# `pulumi package gen-sdk`, which runs the official language hosts shipped beside it (the Go SDK only
# where pulumi-language-go is there or on PATH; else it says so); otherwise fc-invocation-gensdk (pkg/v3's
# code generators at the CLI's version; make engine builds it with Go). schema.json's language sections set
# respectSchemaVersion, so each SDK names plugin fc-invocation at the schema's version, the one
# `python -m pulumi_fc_invocation.plugin --install` installs. No C#: its generator is not in pkg/v3 (the
# official CLI's `--language dotnet` needs pulumi-language-dotnet). A marker of the inputs (DEST/.pinned)
# makes an unchanged build "up to date"; the last line of stdout is the output directory.
# Usage: build.sh <python> [DEST]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${1:?usage: build.sh <python> [DEST]}"
dest="${2:-$root/.pulumi/sdks}"
gensdk="$root/.pulumi/bin/fc-invocation-gensdk"
node_modules="$root/.pulumi/node/node_modules"
pulumi="${FC_INVOCATION_PULUMI:-}"
# sha256sum (GNU), else shasum (macOS): the first 16 hex digits of a file's SHA-256.
hash16() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -c1-16
}
if [ -n "$pulumi" ]; then
    [ -x "$pulumi" ] || { echo "make sdks: FC_INVOCATION_PULUMI=$pulumi is not an executable" >&2; exit 1; }
    generator="pulumi $("$pulumi" version 2>/dev/null) ($pulumi)"
else
    [ -e "$gensdk" ] || { echo "make sdks: no $gensdk: run make engine first (it needs Go), or name a" \
        "pulumi CLI with FC_INVOCATION_PULUMI=/path/to/pulumi" >&2; exit 1; }
    generator="gensdk $(hash16 "$gensdk")"
fi
[ -e "$node_modules/typescript/bin/tsc" ] || { echo "make sdks: no $node_modules/typescript: run make engine first" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "make sdks: needs npm" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
# One build at a time per output directory (several test runs may share this tree): wait for the other one.
if command -v flock >/dev/null 2>&1; then exec 9>"$dest.lock"; flock 9; fi
version="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$root/schema.json")"
want="schema $(hash16 "$root/schema.json"); $generator; build.sh $(hash16 "$0"); $(cat "$root/.pulumi/node/.pinned"); $("$python" --version)"
if [ -f "$dest/.pinned" ] && [ "$(cat "$dest/.pinned")" = "$want" ]; then
    echo "sdks: up to date in $dest (fc-invocation $version)"
    echo "$dest"
    exit 0
fi
start=$SECONDS
work="$(mktemp -d "$(dirname "$dest")/sdks.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/nodejs" "$work/python" "$work/src"
languages="nodejs python go"
if [ -n "$pulumi" ]; then
    if [ ! -x "$(dirname "$pulumi")/pulumi-language-go" ] && ! command -v pulumi-language-go >/dev/null 2>&1; then
        languages="nodejs python"
        echo "sdks: no Go SDK: no pulumi-language-go beside $pulumi or on PATH"
    fi
    for language in $languages; do
        (cd "$work" && "$pulumi" package gen-sdk "$root/schema.json" --language "$language" --out "$work/src" \
            >/dev/null 2>"$work/gen-sdk.log") || { cat "$work/gen-sdk.log" >&2; exit 1; }
    done
    echo "sdks: generated the SDKs of fc-invocation $version ($languages) with $pulumi package gen-sdk"
else
    for language in $languages; do
        "$gensdk" sdk "$language" "$root/schema.json" "$work/src/$language"
    done
    echo "sdks: generated the SDKs of fc-invocation $version ($languages) with fc-invocation-gensdk"
fi

# TypeScript: compile as a provider's release does (tsc into bin/, package.json beside), then npm pack bin/.
(cd "$work/src/nodejs" && ln -s "$node_modules" node_modules && node node_modules/typescript/bin/tsc \
    && cp package.json bin/ && { [ ! -f README.md ] || cp README.md bin/; } && rm node_modules)
(cd "$work/nodejs" && npm pack --silent --pack-destination . "$work/src/nodejs/bin" >/dev/null)
# Python: a wheel (setuptools in pip's build isolation, from the package index or pip's cache).
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$work/python" "$work/src/python"
[ ! -d "$work/src/go" ] || mv "$work/src/go" "$work/go"
rm -rf "$work/src" "$work/gen-sdk.log"
echo "$want" > "$work/.pinned"
rm -rf "$dest"
mv "$work" "$dest"
echo "sdks: built $(cd "$dest" && ls nodejs/*.tgz python/*.whl | tr '\n' ' ')in $((SECONDS - start)) s"
echo "$dest"
