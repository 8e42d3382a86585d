#!/usr/bin/env bash
# Builds the C++ wrapper's tests and quickstart with CMake + Ninja (one job) and runs them
# under CTest. Library: $GRAPHDB_LIB_DIR (default <repo>/target/release); header:
# <repo>/include. Set GRAPHDB_CPP_SANITIZE=OFF to build without ASan/UBSan.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"
build="$here/build"

# The default location goes through the project's CMake package; anything else through
# the GRAPHDB_LIB_DIR cache variable of CMakeLists.txt.
lib_args=(-Dgraphdb_DIR="$repo/cmake" -DGRAPHDB_LIB_DIR=)
if [[ "$lib_dir" != "$repo/target/release" ]]; then
    lib_args=(-DGRAPHDB_LIB_DIR="$lib_dir")
fi

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DGRAPHDB_CPP_SANITIZE="${GRAPHDB_CPP_SANITIZE:-ON}" "${lib_args[@]}" >/dev/null
ninja -C "$build" -j1
ctest --test-dir "$build" --output-on-failure -j1
