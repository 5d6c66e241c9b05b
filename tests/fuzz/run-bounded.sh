#!/bin/sh
# run-bounded.sh FUZZER CORPUS SECONDS: fuzzes for SECONDS, starting from a
# copy of CORPUS; a crash leaves its input in the scratch directory and
# fails the test (libFuzzer prints the path).
set -eu
fuzzer=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$2"/* "$scratch"/
mkdir -p "$scratch/new"
cd "$scratch"
exec "$fuzzer" -max_total_time="$3" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$PWD/" new "$scratch"
