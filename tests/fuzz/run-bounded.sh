#!/bin/sh
# run-bounded.sh FUZZER CORPUS SECONDS: fuzzes for SECONDS, starting from a
# copy of CORPUS. A clean run removes its scratch directory; a crash leaves
# it, with the crashing input (libFuzzer prints the path), and fails.
set -eu
fuzzer=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
scratch=$(mktemp -d)
cp "$2"/* "$scratch"/
mkdir -p "$scratch/new"
cd "$scratch"
status=0
# -error_exitcode: libFuzzer's own is 77, which Meson counts as a skip
"$fuzzer" -max_total_time="$3" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-error_exitcode=1 -artifact_prefix="$PWD/" new "$scratch" || status=$?
[ "$status" -eq 77 ] && status=1 # never a skip
cd /
if [ "$status" -eq 0 ]; then
	rm -rf "$scratch"
else
	echo "run-bounded.sh: the fuzzer failed ($status); its inputs stay in $scratch" >&2
fi
exit "$status"
