#!/usr/bin/env bash
# Every check and test suite of the project, in every language. For now: formatting, lints,
# the release build, all Rust tests (unit, integration, the C API tests in tests/c, the header
# check), the C quickstart, and the C examples built through the CMake package under CTest. Go, Java and C++ binding suites join here when they land.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

step "cargo build --release"
cargo build --release

# Release tests: they reuse the release build's dependencies, and the engine's heavier tests
# (crash loops, concurrency) run far faster optimized, which keeps CI well inside its budget.
step "cargo test --release"
cargo test --release

step "C quickstart"
scripts/quickstart.sh

# The CMake package (cmake/graphdbConfig.cmake) as a C/C++ project would use it: the
# quickstart linked to the shared library and to the static archive, run by CTest.
step "CMake package: C examples under CTest"
rm -rf build/examples
cmake -S examples/c -B build/examples -G Ninja -Dgraphdb_DIR="$PWD/cmake" >/dev/null
cmake --build build/examples >/dev/null
ctest --test-dir build/examples --output-on-failure

printf '\nall checks passed\n'
