#!/usr/bin/env bash
# Builds the Go binding and runs its checks: gofmt, go vet, the tests under the race
# detector, and the quickstart example. The library comes from GRAPHDB_LIB_DIR (default:
# <repo>/target/release), the header from <repo>/include.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

# Never download a toolchain or a module: the binding uses the standard library only.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=1
export CGO_CFLAGS="-I$repo/include ${CGO_CFLAGS:-}"
export CGO_LDFLAGS="-L$lib_dir -Wl,-rpath,$lib_dir ${CGO_LDFLAGS:-}"
# One package, built with one job: the machine's cores are shared.
export GOMAXPROCS="${GOMAXPROCS:-2}"

cd "$here"
mkdir -p build

unformatted="$(gofmt -l .)"
if [[ -n "$unformatted" ]]; then
    echo "test.sh: gofmt would change:" >&2
    echo "$unformatted" >&2
    exit 1
fi
go vet ./...
go test -p 1 -race -count=1 ./...
go build -o build/quickstart ./examples/quickstart
./build/quickstart
echo "go binding: all checks passed"
