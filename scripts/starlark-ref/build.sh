#!/bin/sh
# Builds the reference starlark-go interpreter (main.go) into .tmp/starlark-ref from Debian's packaged sources:
#   apt-get install golang-go golang-starlark-dev && sh scripts/starlark-ref/build.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../.tmp/starlark-ref"
mkdir -p "$(dirname "$out")"
[ -d /usr/share/gocode/src/go.starlark.net ] || { echo "starlark-go's sources are missing: apt-get install golang-starlark-dev" >&2; exit 1; }
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="${GOCACHE:-$here/../../.tmp/go-cache}" go build -o "$out" "$here/main.go"
echo "$out"
