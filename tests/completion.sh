#!/usr/bin/env bash
# The bash completion (completions/cowlab.bash) driven as bash drives it:
# COMP_WORDS and COMP_CWORD set, the function called, COMPREPLY checked.
#     completion.sh COMPLETION_FILE SERVER CLIENT
set -u
. "$1" || { echo "FAIL: cannot source $1"; exit 1; }
server=$2 client=$3
failures=0

# complete FUNCTION WORD... : COMPREPLY for the last word, one a line
complete_words()
{
	local fn=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	"$fn"
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

# expect WHAT GOT WANT: WANT's lines, exactly
expect()
{
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1: got [$(echo "$2" | tr '\n' ' ')], want [$(echo "$3" | tr '\n' ' ')]"
		failures=$((failures + 1))
	fi
}

# has WHAT GOT LINE...: each line among GOT's
has()
{
	local what=$1 got=$2
	shift 2
	for w in "$@"; do
		if ! grep -qxF -- "$w" <<<"$got"; then
			echo "FAIL: $what: [$(echo "$got" | tr '\n' ' ')] lacks $w"
			failures=$((failures + 1))
		fi
	done
}

expect "options" "$(complete_words _cowlab_server "$server" --sc)" "--scenario"
expect "lessons by prefix" "$(complete_words _cowlab_server "$server" --scenario fork-)" \
	"$(printf '%s\n' fork-after-copy fork-child-writes fork-generations fork-parent-writes \
	   fork-readonly-view)"
has "every lesson, list and builtin" "$(complete_words _cowlab_server "$server" --scenario '')" \
	read-does-not-copy huge-page-copies-whole list builtin
expect "--color=" "$(complete_words _cowlab_server "$server" --color=a)" \
	"$(printf '%s\n' --color=always --color=auto)"
expect "--page-size" "$(complete_words _cowlab_server "$server" --page-size '')" \
	"$(printf '%s\n' 1G 2M 4K)"
expect "a number" "$(complete_words _cowlab_server "$server" --spawn '')" ""
expect "client options" "$(complete_words _cowlab_client "$client" --n)" \
	"$(printf '%s\n' --name --no-verdict)"

# scenario files: a .json, not a .txt
dir=$(mktemp -d)
touch "$dir/mine.json" "$dir/notes.txt"
expect "a scenario file" "$(complete_words _cowlab_server "$server" --scenario "$dir/")" \
	"$dir/mine.json"

# the name of a running server, for either program
name=comp-$$
"$server" --clients 1 --name "$name" --timeout 10 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	complete_words _cowlab_client "$client" --name "comp-" | grep -qx "$name" && break
	sleep 0.1
done
has "a running server's name (client)" "$(complete_words _cowlab_client "$client" --name comp-)" \
	"$name"
has "a running server's name (server)" "$(complete_words _cowlab_server "$server" --name '')" \
	"$name"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$dir"

echo "completion: $failures failures"
[ "$failures" -eq 0 ]
