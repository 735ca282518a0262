#!/usr/bin/env bash
# make engine: the Pulumi CLI from the Go module proxy (pkg/v3, pinned in go.mod), the SDK's two
# Python scripts from the pinned sdk/v3 module, and our language host, into .pulumi/bin/.
# A marker of the pinned versions makes later runs reuse the build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${1:?usage: build.sh <python>}"
python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
dest="$root/.pulumi/bin"
cd "$here"
pkg_version="$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
want="pkg/v3 $pkg_version; sdk/v3 $(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3); $(go version); python $python; host $(sha256sum language_host.py | cut -c1-16); go.sum $(sha256sum go.sum | cut -c1-16)"
if [ -x "$dest/pulumi" ] && [ -f "$dest/.pinned" ] && [ "$(cat "$dest/.pinned")" = "$want" ]; then
    echo "engine: up to date in .pulumi/bin ($pkg_version)"
    exit 0
fi
mkdir -p "$dest"
rm -f "$dest/.pinned"
start=$SECONDS
echo "engine: downloading the modules of pulumi $pkg_version (first run on a machine: about 1.5 minutes)"
go mod download
echo "engine: compiling the pulumi CLI (first run on a machine: about 5 minutes on 2 cores)"
# -v names each package as it is compiled; show one line in 100 so the build is visibly alive.
go build -v -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pkg_version" \
    -o "$dest/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>&1 |
    awk '/^(#|go: |.*\.go:)/ { print; next } { n++; if (n % 100 == 0) { printf "engine: %d packages compiled\n", n; fflush() } }'
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "engine: go build failed" >&2; exit 1; }
sdk_dir="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$dest/pulumi-language-python-exec"
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$dest/pulumi-resource-pulumi-python"
{ echo "#!$python"; tail -n +1 language_host.py; } > "$dest/pulumi-language-python"
chmod 0755 "$dest/pulumi-language-python"
"$dest/pulumi" version >/dev/null
echo "$want" > "$dest/.pinned"
echo "engine: built pulumi $("$dest/pulumi" version) in $((SECONDS - start)) s; $(du -sh "$dest" | cut -f1) in .pulumi/bin"
