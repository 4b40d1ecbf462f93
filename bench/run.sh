#!/usr/bin/env bash
# Builds the binary we ship (the static x86_64 musl build, with scripts/release.sh), makes the
# baseline's virtualenv (pyTenable only, so its size is the baseline's real install) and a
# second one with matplotlib for the plot, then runs bench/bench.py. Pass --quick for a smoke
# run with few repetitions; --client-only [USERS] [ROUNDS] for the client-only figures at tenant
# size (bench/client_only.py); set BENCH_BINARY to measure another build instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v /usr/bin/time >/dev/null || { echo "bench needs GNU time: apt-get install time" >&2; exit 1; }
bin="${BENCH_BINARY:-}"
if [ -z "$bin" ]; then
    scripts/release.sh x86_64-unknown-linux-musl >/dev/null
    bin="$(ls "$root"/dist/tenable-rotate-*-x86_64-unknown-linux-musl)"
fi
baseline="$root/target/bench/baseline-venv"
tools="$root/target/bench/tools-venv"
if [ ! -x "$baseline/bin/python" ]; then
    python3 -m venv "$baseline"
    "$baseline/bin/pip" install --quiet --disable-pip-version-check -r conformance/requirements.txt
fi
make_tools() {
    if [ ! -x "$tools/bin/python" ]; then
        python3 -m venv "$tools"
        "$tools/bin/pip" install --quiet --disable-pip-version-check 'matplotlib==3.10.*'
    fi
}
if [ "${1:-}" = "--client-only" ]; then
    # Client-only figures at tenant size (BENCHMARKS.md): curl floor, check, discover, pyTenable.
    shift
    for tool in curl taskset; do
        command -v "$tool" >/dev/null || { echo "bench --client-only needs $tool: apt-get install ${tool/taskset/util-linux}" >&2; exit 1; }
    done
    make_tools
    python3 bench/client_only.py "$bin" "$baseline/bin/python" "$@"
    exec "$tools/bin/python" bench/plot_client_only.py
fi
make_tools
"$tools/bin/python" bench/bench.py "$bin" "$baseline/bin/python" "$@"
