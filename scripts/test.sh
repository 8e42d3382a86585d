#!/usr/bin/env bash
# Every check and test suite of the project, in every language: formatting, lints, the release
# build, all Rust tests (unit, integration, the C API tests in tests/c, the header check), the
# graphdb-import command line, the C quickstart, the C examples built through the CMake
# package under CTest, and the C++, Go and Java bindings' suites (bindings/*/test.sh), each
# against the release library built here.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets --all-features -- -D warnings"
cargo clippy --all-targets --all-features -- -D warnings

step "cargo build --release"
cargo build --release

# Release tests: they reuse the release build's dependencies, and the engine's heavier tests
# (crash loops, concurrency) run far faster optimized, which keeps CI well inside its budget.
step "cargo test --release"
cargo test --release

# The bulk-import command line (feature `cli`): a load that works, and one that must fail
# naming the offending line, with nothing left half-imported.
step "graphdb-import command line"
cargo build --release --features cli --bin graphdb-import
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
printf 'id:ID,name,age:int\n1,ann,31\n2,bob,42\n' >"$scratch/users.csv"
printf ':START_ID,:END_ID,since:int\n1,2,2020\n2,1,2021\n' >"$scratch/follows.csv"
target/release/graphdb-import "$scratch/db" --id-type int \
    --nodes User="$scratch/users.csv" --relationships FOLLOWS="$scratch/follows.csv"
printf ':START_ID,:END_ID\n1,3\n' >"$scratch/bad.csv"
if target/release/graphdb-import "$scratch/db" --id-type int \
    --relationships FOLLOWS="$scratch/bad.csv" 2>"$scratch/err.txt"; then
    echo "graphdb-import accepted a relationship to an unknown node" >&2
    exit 1
fi
grep -q 'bad.csv' "$scratch/err.txt" || { cat "$scratch/err.txt" >&2; exit 1; }

step "C quickstart"
scripts/quickstart.sh

# The CMake package (cmake/graphdbConfig.cmake) as a C/C++ project would use it: the
# quickstart linked to the shared library and to the static archive, run by CTest.
step "CMake package: C examples under CTest"
rm -rf build/examples
cmake -S examples/c -B build/examples -G Ninja -Dgraphdb_DIR="$PWD/cmake" >/dev/null
cmake --build build/examples >/dev/null
ctest --test-dir build/examples --output-on-failure

# The bindings, each built and tested by its own script against target/release.
for lang in cpp go java; do
    step "bindings/$lang"
    "bindings/$lang/test.sh"
done

printf '\nall checks passed\n'
