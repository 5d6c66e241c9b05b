#!/bin/sh
# valgrind.sh VALGRIND SERVER CLIENT: an integration run with the server and
# every client under memcheck. Fails on any error or leak valgrind reports,
# in the server or in any client (their statuses do not reach the shell).
set -u
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$1" --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --trace-children=yes --quiet --log-file="$log.%p" \
	"$2" --spawn 4 --client "$3" > /dev/null
status=$?
cat "$log".* > "$log" 2>/dev/null
rm -f "$log".*
if [ -s "$log" ]; then
	cat "$log"
	echo "valgrind reported the above"
	exit 1
fi
[ "$status" = 0 ] || { echo "cowlab-server exited $status under valgrind"; exit 1; }
echo "memcheck: server and 4 clients clean"
