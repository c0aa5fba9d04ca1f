# commands: what the commands say (cli/src/commands): confirmations, hints, prompts, warnings
# and their one-line errors. Command names, flags and values people type (`puente init`,
# --yes, shelter-bed) stay as they are inside the sentences.

## Running a command, directly or through a node

cmd-join-node-running = a puente node is running on { $dir }; stop it (Ctrl-C where it runs), run `puente join` again, then start the node
cmd-run-node-running = a puente node is already running on { $dir }; stop it (Ctrl-C where it runs) before starting another
cmd-relay-served = `puente relay` without a subcommand runs the relay service; run it on its own, not through a node
cmd-run-served = a node is already running here; stop it before starting another
cmd-shell-served = `puente completions` and `puente man` run on their own, not through a node

## audit

cmd-audit-no-network = this node is not part of a network yet, so nobody has been added or revoked; create one with `puente network create` or join one
