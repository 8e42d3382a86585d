#!/usr/bin/env bash
# Builds the JNI glue against libgraphdb and runs the Java binding's tests and quickstart.
# GRAPHDB_LIB_DIR: the directory holding libgraphdb.so (default <repo>/target/release).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

if [[ -z "${JAVA_HOME:-}" ]]; then
    JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
    export JAVA_HOME
fi

cd "$here"
log="$here/target/mvn.log"
mkdir -p target
# Quiet on success, everything on failure.
mvn_run() {
    if ! mvn -B -q "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "test.sh: mvn $* failed" >&2
        exit 1
    fi
}

# 1. Java classes, and the JNI header the glue includes.
mvn_run compile

# 2. The glue.
jni_lib="$here/target/native/libgraphdb_jni.so"
cc -shared -fPIC -O2 -Wall -Wextra -Werror \
    -I"$JAVA_HOME/include" -I"$JAVA_HOME/include/linux" -I"$repo/include" \
    -I"$here/target/native/include" \
    -o "$jni_lib" "$here/src/main/c/graphdb_jni.c" \
    -L"$lib_dir" -lgraphdb -Wl,-rpath,"$lib_dir"

# 3. The tests, under -Xcheck:jni. Its warnings do not fail a test, so they fail the run here
#    (surefire files what the forked JVM prints outside System.out under *.dumpstream).
rm -rf target/surefire-reports
if ! mvn -B "-Dgraphdb.jni.library=$jni_lib" test >"$log" 2>&1; then
    cat "$log" >&2
    echo "test.sh: tests failed" >&2
    exit 1
fi
reports=("$log" target/surefire-reports/*)
if grep -q "WARNING in native method" "${reports[@]}" 2>/dev/null; then
    grep -h -A8 "WARNING in native method" "${reports[@]}" >&2 || true
    echo "test.sh: -Xcheck:jni reported a problem in the JNI glue" >&2
    exit 1
fi
grep -E "Tests run:|BUILD" "$log" | tail -n 3

# 4. The quickstart, as a user would run it.
qs_dir="$here/target/quickstart-db"
rm -rf "$qs_dir"
java "-Dgraphdb.jni.library=$jni_lib" -Xcheck:jni -cp "$here/target/classes" \
    dev.libgraphdb.graphdb.examples.Quickstart "$qs_dir" >"$here/target/quickstart.log" 2>&1 \
    || { cat "$here/target/quickstart.log" >&2; echo "test.sh: quickstart failed" >&2; exit 1; }
if grep -q "WARNING" "$here/target/quickstart.log"; then
    cat "$here/target/quickstart.log" >&2
    echo "test.sh: quickstart printed a warning" >&2
    exit 1
fi
echo "quickstart: $(tr '\n' ' ' <"$here/target/quickstart.log")"
