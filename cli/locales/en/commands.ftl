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

## bundle export and bundle import

cmd-bundle-exists = { $file } already exists; choose another file name (puente never overwrites a bundle)
cmd-bundle-cannot-write = cannot write { $file }: { $reason }; check the path and free space, then try again
cmd-bundle-wrote-for = Wrote { $file } ({ $bytes } bytes) for "{ $name }". Give it to them on a USB stick; they run `puente bundle import FILE`.
cmd-bundle-wrote-all = Wrote { $file } ({ $bytes } bytes) for every member. Give it to them on a USB stick; they run `puente bundle import FILE`.
cmd-bundle-no-member = no member organisation is named `{ $name }`; see `puente status` for the members
cmd-bundle-several-members = several members are named `{ $name }`; use the organisation id from `puente status`
cmd-bundle-cannot-read = cannot read { $file }: { $reason }; check the path and try again
cmd-bundle-too-large = { $file } is { $bytes } bytes, more than a bundle can be ({ $max }); it is not a puente bundle
cmd-bundle-imported =
    Imported { $file }: { $applied ->
        [one] { $applied } new change
       *[other] { $applied } new changes
    }, { $duplicates } already here, { $ops ->
        [one] { $ops } membership update
       *[other] { $ops } membership updates
    }{ $waiting ->
        [0] { "" }
       *[other] , { $waiting } waiting for earlier changes
    }{ $refused ->
        [0] { "" }
       *[other] , { $refused } refused (not valid)
    }.
