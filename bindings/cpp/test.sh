#!/usr/bin/env bash
# Builds the C++ wrapper's tests and quickstart with CMake + Ninja (one job) and runs them
# under CTest. Library: $GRAPHDB_LIB_DIR (default <repo>/target/release); header:
# <repo>/include. Set GRAPHDB_CPP_SANITIZE=OFF to build without ASan/UBSan.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$here/build"
lib_dir="${GRAPHDB_LIB_DIR:-$repo/target/release}"

if [[ ! -f "$lib_dir/libgraphdb.so" ]]; then
    echo "libgraphdb.so not found in $lib_dir: run cargo build --release or set GRAPHDB_LIB_DIR" >&2
    exit 1
fi

# The default location goes through the project's CMake package; anything else through
# the GRAPHDB_LIB_DIR cache variable of CMakeLists.txt.
lib_args=(-Dgraphdb_DIR="$repo/cmake" -DGRAPHDB_LIB_DIR=)
if [[ "$(cd "$lib_dir" && pwd)" != "$repo/target/release" ]]; then
    lib_args=(-DGRAPHDB_LIB_DIR="$lib_dir")
fi

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DGRAPHDB_CPP_SANITIZE="${GRAPHDB_CPP_SANITIZE:-ON}" "${lib_args[@]}" >/dev/null
ninja -C "$build" -j1
ctest --test-dir "$build" --output-on-failure -j1
