#!/usr/bin/env bash
# Runs the benchmark workloads on libgraphdb, SQLite and Kuzu, in this order, on the same
# generated graph, and prints one table (also written as results.md and results.json).
#
#   bench/run.sh [--smoke] [--nodes N] [--reps R] [--load-reps L] [--out DIR]
#                [--budget-ms MS] [--phase-ms MS] [--systems "graphdb sqlite kuzu"]
#                [--commits-only]   (only the loads and the durable create-node phases;
#                                    graphdb and sqlite)
#   bench/run.sh --reopen [--nodes N] [--wal-mb MB]   (only the reopen-after-kill benchmark:
#                N users / 10N relationships, checkpoint, MB of log after it, SIGKILL, reopen)
#
# Default: 1,000,000 User nodes and 10,000,000 FOLLOWS relationships (seed 42), median of 3
# repetitions. --smoke: 10,000 nodes, short phases (a check that everything runs).
# Kuzu is installed with pip into bench/.venv; when that fails it is skipped, with the reason.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
nodes=1000000
reps=3
load_reps=""
out="$here/results"
budget_ms=2000
phase_ms=3000
systems="graphdb sqlite kuzu"
kuzu_version="0.11.3"
reopen=0
wal_mb=100
only=()

while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) nodes=10000; budget_ms=200; phase_ms=300 ;;
        --nodes) nodes="$2"; shift ;;
        --reps) reps="$2"; shift ;;
        --load-reps) load_reps="$2"; shift ;;
        --out) out="$2"; shift ;;
        --budget-ms) budget_ms="$2"; shift ;;
        --phase-ms) phase_ms="$2"; shift ;;
        --systems) systems="$2"; shift ;;
        --reopen) reopen=1 ;;
        --commits-only) only=(--commits-only) ;;
        --wal-mb) wal_mb="$2"; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
load_reps="${load_reps:-$reps}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$out/work"
data="$out/data"
mkdir -p "$work"

echo "== building the harness (release)" >&2
(cd "$here" && cargo build --release --quiet)
bin="$here/target/release/graphdb-bench"

if [ "$reopen" = 1 ]; then
    "$bin" reopen --nodes "$nodes" --wal-mb "$wal_mb" --work "$work" | tee "$out/reopen.json"
    exit "${PIPESTATUS[0]}"
fi

common=(--nodes "$nodes" --reps "$reps" --budget-ms "$budget_ms" --phase-ms "$phase_ms")
failed=0
rm -f "$out"/graphdb.json "$out"/sqlite.json "$out"/kuzu.json "$out"/commits.json

for sys in graphdb sqlite; do
    case " $systems " in *" $sys "*) ;; *) continue ;; esac
    echo "== $sys" >&2
    if ! "$bin" run --system "$sys" "${common[@]}" --load-reps "$load_reps" \
        --work "$work" --out "$out/$sys.json" ${only[@]+"${only[@]}"}; then
        echo "== $sys FAILED: its column is missing from the table" >&2
        failed=1
    fi
    rm -rf "$work/$sys-db"
done

# The durable-commit phases once more, both systems in one process timed in turn in every
# repetition (bench/src/duel.rs): the runs above are minutes apart, and the disk's speed
# moves in between.
if [[ " $systems " == *" graphdb "* && " $systems " == *" sqlite "* ]]; then
    echo "== durable commits, interleaved" >&2
    if ! "$bin" commits --nodes "$nodes" --reps "$reps" --budget-ms "$budget_ms" \
        --phase-ms "$phase_ms" --work "$work" --out "$out/commits.json"; then
        echo "== interleaved commits FAILED: their section is missing" >&2
        failed=1
    fi
fi

skip_kuzu() {
    echo "== kuzu skipped: $1" >&2
    printf '{"system": "kuzu", "skipped": %s}\n' \
        "$(printf '%s' "$1" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" \
        > "$out/kuzu.json"
}

case "${only[*]-} $systems " in
    "--commits-only"*) ;;
    *" kuzu "*)
        venv="$here/.venv"
        if ! { [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >"$out/venv.log" 2>&1; }; then
            skip_kuzu "could not create a Python virtual environment (see $out/venv.log)"
        elif ! "$venv/bin/python" -c "import kuzu" 2>/dev/null \
            && ! "$venv/bin/pip" install --quiet "kuzu==$kuzu_version" >"$out/pip.log" 2>&1; then
            skip_kuzu "pip install kuzu==$kuzu_version failed: $(tail -n 1 "$out/pip.log")"
        else
            echo "== kuzu" >&2
            "$bin" gen --nodes "$nodes" --dir "$data"
            if ! "$venv/bin/python" "$here/kuzu_bench.py" run --data "$data" "${common[@]}" \
                --load-reps "$load_reps" --work "$work" --out "$out/kuzu.json"; then
                skip_kuzu "kuzu_bench.py failed (its error is printed above)"
                failed=1
            fi
            rm -rf "$work/kuzu-db" "$data"
        fi
        ;;
esac

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
header="Command: \`bench/run.sh --nodes $nodes --reps $reps --load-reps $load_reps${only[*]+ ${only[*]}}\`, \
$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($cpu), \
median of $reps repetitions (loads: $load_reps)."
"$bin" report --dir "$out" --header "$header"
echo "results: $out/results.md, $out/results.json" >&2
exit "$failed"
