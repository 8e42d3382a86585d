#!/usr/bin/env bash
# Builds libgraphdb (release) and runs the C quickstart end to end: it creates a small social
# graph in a database directory, queries it, closes, reopens, and checks the answer is the same.
# Usage: scripts/quickstart.sh [DIR]   (default: target/quickstart/quickstart.db)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release
mkdir -p target/quickstart
# Exactly the build line the README documents, plus -o.
cc -Iinclude examples/c/quickstart.c -Ltarget/release -lgraphdb -o target/quickstart/quickstart
LD_LIBRARY_PATH=target/release target/quickstart/quickstart "${1:-target/quickstart/quickstart.db}"
