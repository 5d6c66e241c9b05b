# bash completion for cowlab-server and cowlab-client (installed as each
# program's name, where bash-completion looks them up). Needs nothing but
# bash: compgen, and the programs themselves for the lessons' names.

_cowlab_names()
{
	# the names of running servers: their sockets (cowlab-server --name)
	local dir
	if [[ ${XDG_RUNTIME_DIR-} == /* && -d $XDG_RUNTIME_DIR/cowlab ]]; then
		dir=$XDG_RUNTIME_DIR/cowlab
	else
		dir=/tmp/cowlab-$(id -u)
	fi
	local f
	for f in "$dir"/*.sock; do
		[[ -S $f ]] || continue
		f=${f##*/}
		printf '%s\n' "${f%.sock}"
	done
}

_cowlab_lessons()
{
	# the lessons the server finds by name, as its --scenario list says
	"$1" --scenario list 2>/dev/null |
		sed -n 's/^\([a-z][a-z0-9-]*\)  .*/\1/p'
	printf '%s\n' list builtin
}

_cowlab_server()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local opts="--scenario --tap --print --spawn --clients --name --pages-per-client
		--page-size --timeout --client --repeat --json --cow-as-shared --step --step-ms
		--hold --hold-ms --html --color= --help --version"
	local IFS=$'\n'

	case $cur in
	--color=*)
		COMPREPLY=($(compgen -P --color= -W $'auto\nalways\nnever' -- "${cur#--color=}"))
		return
		;;
	esac
	case $prev in
	--scenario)
		COMPREPLY=($(compgen -W "$(_cowlab_lessons "${COMP_WORDS[0]}")" -- "$cur")
			   $(compgen -f -X '!*.json' -- "$cur") $(compgen -d -S / -- "$cur"))
		return
		;;
	--name)
		COMPREPLY=($(compgen -W "$(_cowlab_names)" -- "$cur"))
		return
		;;
	--page-size)
		COMPREPLY=($(compgen -W $'4K\n2M\n1G' -- "$cur"))
		return
		;;
	--client | --html)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--spawn | --clients | --pages-per-client | --timeout | --repeat | --step-ms | --hold-ms)
		return # a number
		;;
	esac
	IFS=$' \t\n'
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
}

_cowlab_client()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local opts="--name --timeout --quiet --no-verdict --parent --explore --json --help --version"

	case $prev in
	--name)
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "$(_cowlab_names)" -- "$cur"))
		return
		;;
	--timeout)
		return
		;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}

complete -F _cowlab_server cowlab-server
complete -F _cowlab_client cowlab-client
