# fish completion for cowlab-server and cowlab-client.

function __cowlab_names
    set -l dir /tmp/cowlab-(id -u)
    if string match -q '/*' -- "$XDG_RUNTIME_DIR"; and test -d "$XDG_RUNTIME_DIR/cowlab"
        set dir "$XDG_RUNTIME_DIR/cowlab"
    end
    for f in $dir/*.sock
        test -S $f; and basename $f .sock
    end
end

function __cowlab_lessons
    cowlab-server --scenario list 2>/dev/null | string replace -rf '^([a-z][a-z0-9-]*)  +(.*)$' '$1\t$2'
    printf '%s\t%s\n' list 'the lessons' builtin 'the built-in experiment'
end

complete -c cowlab-server -l scenario -r -d 'run a scenario: a file, or a lesson by name' -a '(__cowlab_lessons)'
complete -c cowlab-server -l tap -d 'print the run as TAP version 13'
complete -c cowlab-server -l print -d 'print the scenario file and run nothing'
complete -c cowlab-server -l spawn -x -d 'start N clients'
complete -c cowlab-server -l clients -x -d 'wait for N clients started by hand'
complete -c cowlab-server -l name -x -d 'the name clients connect to' -a '(__cowlab_names)'
complete -c cowlab-server -l pages-per-client -x -d 'pages each client owns'
complete -c cowlab-server -l page-size -x -d 'the section page size' -a '4K 2M 1G'
complete -c cowlab-server -l timeout -x -d 'longest wait, in seconds'
complete -c cowlab-server -l client -r -F -d 'the cowlab-client to start'
complete -c cowlab-server -l repeat -x -d 'run N times'
complete -c cowlab-server -l json -d 'print the report as JSON'
complete -c cowlab-server -l cow-as-shared -d 'negative control'
complete -c cowlab-server -l step -d 'pause before each step'
complete -c cowlab-server -l step-ms -x -d 'pause, going on after N ms'
complete -c cowlab-server -l hold -d 'keep every process after the last step'
complete -c cowlab-server -l hold-ms -x -d 'hold, letting go after N ms'
complete -c cowlab-server -l html -r -F -d 'also write the run as an HTML page'
complete -c cowlab-server -l color -x -d 'the page map in colour' -a 'auto always never'
complete -c cowlab-server -l help -d 'print the options'
complete -c cowlab-server -l version -d 'print the version'

complete -c cowlab-client -l name -x -d 'the server name' -a '(__cowlab_names)'
complete -c cowlab-client -l timeout -x -d 'how long to wait, in seconds'
complete -c cowlab-client -l quiet -d 'print nothing but errors'
complete -c cowlab-client -l no-verdict -d 'leave once the last results are sent'
complete -c cowlab-client -l parent -d 'join only the server that started this client'
complete -c cowlab-client -l explore -d 'show the Virtual API on this machine'
complete -c cowlab-client -l json -d 'with --explore: print JSON'
complete -c cowlab-client -l help -d 'print the options'
complete -c cowlab-client -l version -d 'print the version'
