#!/usr/bin/env bash
# Every check and test suite of the project, in every language. For now: formatting, lints,
# the release build, all Rust tests (unit, integration, the C API tests in tests/c, the header
# check) and the C quickstart. Go, Java and C++ binding suites join here when they land.
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

printf '\nall checks passed\n'
