#!/usr/bin/env bash
# Regenerates include/graphdb.h from src/ffi with cbindgen 0.29.0 (as a library, through
# tests/header.rs), so no cbindgen binary needs installing.
set -euo pipefail
cd "$(dirname "$0")/.."
GRAPHDB_BLESS=1 cargo test --quiet --test header -- checked_in_header_matches_cbindgen
echo "include/graphdb.h regenerated"
