# Sourced by each binding's test.sh: sets `repo` (the repository root) and `lib_dir` (the
# absolute directory holding libgraphdb.so: GRAPHDB_LIB_DIR, default <repo>/target/release),
# or stops with a message saying how to get the library.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lib_dir="${GRAPHDB_LIB_DIR:-$repo/target/release}"
if [[ ! -f "$lib_dir/libgraphdb.so" ]]; then
    echo "no libgraphdb.so in $lib_dir: run cargo build --release, or set GRAPHDB_LIB_DIR" >&2
    exit 1
fi
lib_dir="$(cd "$lib_dir" && pwd)"
