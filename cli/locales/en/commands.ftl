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

## hold place, release, confirm, decline and list

cmd-hold-own-offer = offer { $id } is your own; holds are for partners' offers, so change its windows with `puente offer update` instead
cmd-hold-no-dates = say which dates to hold with --from DATE --to DATE (for example --from +2d --to +5d), or --whole-window for the window's whole next occurrence
cmd-hold-to-before-from = --to must be after --from (the end is exclusive)
# $quantity is like "2 beds"; $status is the hold's status in words.
cmd-hold-placed = Placed a hold for { $quantity } on { $handle } ({ $status }).
cmd-hold-placed-lapses = Placed a hold for { $quantity } on { $handle } ({ $status }); it lapses { $when } unless { $owner } confirms it.
cmd-hold-overbooked = the hold is overbooked: earlier holds already take what { $owner } has in that window, so it waits for their answer; release it with `puente hold release { $id }` if you find another place
cmd-hold-no-date-given = no date given; nothing was held (give --from and --to, or --whole-window)
cmd-hold-ask-from = Hold from which date? (for example 2026-12-01, 2026-12-01T14:00 or +2d)
cmd-hold-ask-to = Until which date (not included)?
# $what is `released`, `confirmed` or `declined`.
cmd-hold-done =
    { $what ->
        [released] Released hold { $id }.
        [confirmed] Confirmed hold { $id }.
       *[declined] Declined hold { $id }.
    }
cmd-hold-none = no holds

## init and whoami

cmd-init-device-not-empty = { $dir } already holds puente data (or other files); a new device needs a store of its own: run `puente init --device` with an empty directory (--data-dir DIR)
cmd-init-not-empty = { $dir } already holds puente data (or other files); choose an empty directory with --data-dir
cmd-init-created = Created the encrypted puente store for { $name } in { $dir }.
cmd-init-fingerprint-advice = Read this fingerprint aloud to each partner coordinator, by phone or in person (not by e-mail or chat), and have them read theirs to you. If a single digit differs, stop: you are not talking about the same key.
cmd-init-device-created = Created the encrypted puente store for a new device in { $dir }.
cmd-init-key-device-key = device key
cmd-init-device-next =
    This device belongs to no organisation yet. Next: on a computer of your organisation that already runs puente, run
      puente device add
    then run here, with the token it prints:
      puente join TOKEN

## inbox and events

# The NEEDS column of `puente inbox` and `puente status`.
cmd-inbox-answer = answer
cmd-inbox-answer-overbooked = answer (overbooked)
# $status is the hold's status: `overbooked` or `declined`.
cmd-inbox-our-hold =
    { $status ->
        [overbooked] our hold overbooked
        [declined] our hold declined
       *[other] our hold { $status }
    }
cmd-inbox-renew = renew or withdraw
# The WHEN column: $what is `expiring` (an offer) or a hold's line.
cmd-inbox-deadline =
    { $what ->
        [expiring] expires { $when }
       *[other] lapses { $when }
    }
cmd-inbox-empty = Nothing needs you right now.
# One line of `puente events` and of `puente run`; $event is the event's kind.
cmd-event =
    { $event ->
        [hold-to-answer] A partner's hold { $hold } on { $offer } waits for your answer (puente inbox).
        [our-hold-overbooked] Your hold { $hold } on { $offer } is overbooked (puente inbox).
        [our-hold-declined] Your hold { $hold } on { $offer } was declined (puente inbox).
       *[offer-expiring] Your offer { $offer } expires within 72 hours (puente inbox).
    }
cmd-events-follow-needs-node = --follow needs a running node to watch: start `puente run` on this data directory, then try again

## query

cmd-query-to-before-from = --to must be after --from (or after now when --from is not given); the end is exclusive
cmd-query-none = no offers match
cmd-query-no-owner = --owner: no organisation matches `{ $owner }`; give an organisation id (see `puente whoami`) or name
cmd-query-several-owners = --owner: `{ $owner }` matches several organisations; type more of the id

## network create, invite, join, status, peer, device

cmd-network-create-device = this store was made with `puente init --device` to join an existing organisation: run `puente join TOKEN` with a device invitation from one of its devices; to found a network, make an organisation's store with `puente init --org NAME` in another data directory
cmd-network-created =
    Created network "{ $name }" ({ $network }).
    Your organisation is its admin. Invite partners with:
      puente invite create --org "PARTNER NAME"
cmd-invite-no-node = no node is running here, so the invitation cannot say where to reach you: start `puente run` first, or pass --address MULTIADDR
cmd-invite-no-address = the node listens on no address a partner could dial; pass --address MULTIADDR with this machine's address
cmd-invite-auto-confirm = It will be confirmed as soon as they join (--yes): no phrase check.
cmd-invite-compare-phrase =
    When they join, you both see a safety phrase. Compare it over the phone, then run:
      puente invite confirm { $id }
# $role is the role typed (`member`, `admin`); $until is a local time and how far it is.
cmd-invite-created =
    Invitation { $id } for "{ $org }" ({ $role }), valid until { $until }.
    Send them this token (it works once); they run `puente join TOKEN`.
cmd-device-add-not-joined = this device has not joined its organisation yet, so it cannot add others: run `puente device add` on a device that has, or join first with `puente join TOKEN`
cmd-device-add-no-network = devices are added through a network, and this organisation is in none yet: found one with `puente network create --name NAME` (or join one with `puente join TOKEN`), then add the device
cmd-device-invite-auto-confirm = It will be confirmed as soon as the device joins (--yes): no phrase check.
cmd-device-invite-compare-phrase =
    When it joins, both screens show a safety phrase. Check they are the same, then run:
      puente invite confirm { $id }
cmd-device-invite-not-admin = Your organisation is not an admin: the new device gets the network's key from an admin's node when it first connects to one.
cmd-device-invite-created =
    Device invitation { $id } for a new device of "{ $org }", valid until { $until }.
    On the new computer run `puente init --device`, then `puente join TOKEN` with this token (it works once).
# $node is `yes` when a running node serves the command.
cmd-invite-confirmed-device =
    Confirmed: the new device is now a device of "{ $org }".
    { $node ->
        [yes] The node is sending it the network's membership now; it then reads and writes this organisation's offers.
       *[no] Start `puente run`: the device receives the network's membership when it runs `puente join` again.
    }
cmd-invite-confirmed =
    Confirmed: "{ $org }" is now a { $role } of the network.
    { $node ->
        [yes] The node is sending them the network's membership and keys now.
       *[no] Start `puente run`: they receive the network's keys when they run `puente join` again.
    }
cmd-invite-cancelled = Cancelled invitation { $id } for "{ $org }"; its token no longer works.
cmd-join-connecting = Connecting to the inviter at { $addresses } ...
cmd-join-phrase-device =
    Safety phrase: { $phrase }
    `puente invite list` on the device that made the invitation shows four words too. Confirm there (`puente invite confirm ID`) only if they are the same.
    Waiting for the confirmation ...
cmd-join-phrase =
    Safety phrase: { $phrase }
    Read these four words to the inviter. They confirm only if they see the same words.
    Waiting for them to confirm ...
cmd-join-joined =
    Joined network "{ $name }" ({ $network }).
    Start your node with `puente run` to exchange offers with your partners.
cmd-join-device-no-key = Your organisation is not an admin, so this device does not hold the network's key yet: an admin's node shares it when your node connects to it. Until then it can neither read nor write offers.
cmd-join-joined-device =
    Joined network "{ $name }" ({ $network }) as a device of "{ $org }".
    Start your node with `puente run`: it fetches your organisation's offers, and you can then update them from here.
cmd-status-needs-you = Needs you (`puente inbox`):
cmd-device-list-not-joined = this device has not joined its organisation yet: run `puente device add` on one of its devices, then `puente join TOKEN` here
cmd-peer-no-device = no partner device has a key starting with `{ $key }`; see `puente peer list`
cmd-peer-several-devices = `{ $key }` matches several partner devices; type more of the key
# $added is `yes` for an address this node did not know.
cmd-peer-address =
    { $added ->
        [yes] Recorded
       *[no] Already knew
    } { $address } for device { $key }{ $node ->
        [yes] ; the node dials it now
       *[no] ; the node dials it when it runs
    }.

## offer add, update, withdraw, confirm, list and show

# $sentence is the revocation sentence of `puente status`.
cmd-offer-add-revoked = warning: { $sentence } This offer stays on this computer only.
# $kind is the offer's kind as typed (`host-home`); $when a local time and how far it is.
cmd-offer-published = Published { $kind } offer { $handle }; it expires { $when } unless you confirm it.
cmd-offer-published-unknown = Published the offer.
cmd-offer-clear-contradicts = { $flag } and --clear for the same field contradict each other; give one of them
cmd-offer-update-nothing = nothing to change: give at least one flag, such as --label, --add-window or --status (see `puente offer update --help`)
cmd-offer-update-withdrawn = offer { $id } is withdrawn and cannot change; publish a new offer with `puente offer add` instead
cmd-offer-updated = Updated offer { $id }.
cmd-offer-withdraw-not-owner = offer { $id } belongs to { $owner }; only its owner can withdraw it
cmd-offer-already-withdrawn = Offer { $id } was already withdrawn; nothing changed.
cmd-offer-withdraw-no-terminal = withdrawing offer { $id } cannot be undone and there is no terminal to confirm on; add --yes
cmd-offer-not-withdrawn = Not withdrawn; nothing changed.
cmd-offer-withdrawn = Withdrew offer { $id }. Partners no longer see it; to offer again, publish a new offer.
cmd-offer-confirm-withdrawn = offer { $id } is withdrawn and cannot be confirmed; publish a new offer instead
cmd-offer-confirmed = Confirmed offer { $id }.
cmd-offer-confirmed-until = Confirmed offer { $id }; it now expires { $when }.
cmd-offer-list-none = no offers; publish one with `puente offer add` or import a CSV with `puente import`
cmd-offer-no-windows = no windows (a standing offer)
cmd-offer-no-holds = no holds on this offer
cmd-offer-window-weekly = weekly
# $state is `open`, `ended` or `cancelled`.
cmd-offer-window-state =
    { $state ->
        [open] open
        [ended] ended
       *[cancelled] cancelled
    }
cmd-offer-withdraw-ask = Withdraw { $kind } offer { $handle } ({ $id })? Partners will stop seeing it and this cannot be undone. [y/N]
# The answers that mean yes to the question above, separated by commas.
cmd-offer-withdraw-yes = y, yes
cmd-offer-no-window = offer { $id } has no window matching `{ $window }`; see its windows with `puente offer show { $id }`
cmd-offer-several-windows = `{ $window }` matches several windows of this offer; type more of the id
cmd-offer-zone-damaged = { $reason }; the store's time zone is damaged
# The keys of `puente offer show`.
cmd-offer-key-offer = offer
cmd-offer-key-owner = owner
cmd-offer-key-state = state
cmd-offer-key-kind = kind
cmd-offer-key-handle = handle
cmd-offer-key-subject = subject
cmd-offer-key-zone = zone
cmd-offer-key-languages = languages
cmd-offer-key-accepts = accepts
cmd-offer-key-affirming = affirming
cmd-offer-key-accessibility = accessibility
cmd-offer-key-household = household
cmd-offer-key-capabilities = capabilities
cmd-offer-key-unit = unit
cmd-offer-key-lead-time = lead time
cmd-offer-key-max-stay = max stay
cmd-offer-key-vetting = vetting
cmd-offer-key-status = status
cmd-offer-key-bond-band = bond band
cmd-offer-key-post-within = post within
cmd-offer-key-label = label
cmd-offer-key-created = created
cmd-offer-key-confirmed = confirmed
cmd-offer-key-expires = expires

## relay: the relay service, and relay ticket, add, remove, list

cmd-relay-no-dir = cannot tell where to keep the relay's data: pass --relay-dir DIR or set PUENTE_RELAY_DIR
cmd-relay-mailbox-limits = --mailbox-mib and --mailbox-days must be at least 1
cmd-relay-cannot-open = cannot open the relay's data in { $dir }: { $reason }
cmd-relay-cannot-admit = cannot record --admit: { $reason }
cmd-relay-no-runtime = cannot start the relay's runtime: { $reason }
# $signal is `Ctrl-C` or `SIGTERM`.
cmd-cannot-watch-signal = cannot watch for { $signal }: { $reason }
cmd-relay-port-in-use = cannot listen: the port is already in use (another relay?); pass --listen with another port
cmd-relay-cannot-start = the relay could not start: { $reason }
cmd-relay-running = puente relay { $id } is running on { $dir }.
cmd-relay-admins-add = An admin of each network it serves adds it with:
cmd-relay-serves-none = It serves no network yet: start it with --admit TICKET (an admin prints the ticket with `puente relay ticket`).
cmd-relay-serves =
    { $count ->
        [one] It serves { $count } network. Press Ctrl-C (or send SIGTERM) to stop it.
       *[other] It serves { $count } networks. Press Ctrl-C (or send SIGTERM) to stop it.
    }
cmd-relay-unclean-stop = the relay did not stop cleanly: { $reason }
cmd-relay-stopped = Stopped the relay; its mailbox is saved.
cmd-relay-ticket-no-network = this organisation is in no network yet; found one with `puente network create --name NAME` or join one first
cmd-relay-ticket-not-admin = only an admin of the network can make a relay ticket; ask an admin (see `puente status`)
cmd-relay-ticket-note =
    Send this line to whoever runs the relay; they start it with `puente relay --admit LINE`.
    It holds no secret and no name: only an opaque tag for the network and the admins' device keys.
cmd-relay-add-other-relay = --address { $address } names another relay; add each relay with its own `puente relay add`
cmd-relay-add-own-key = that is this device's own key, not a relay's; give the address `puente relay` printed
cmd-relay-added =
    The network now uses relay { $id } at { $addresses }.
    Every member's node learns it as it syncs{ $node ->
        [yes] ; this node connects now
       *[no] ; this node connects when it runs
    }.
cmd-relay-remove-none = the network uses no relay whose id starts with `{ $id }`; see `puente relay list`
cmd-relay-remove-several = `{ $id }` matches several relays; type more of the id
cmd-relay-removed = The network no longer uses relay { $id }; nodes drop their reservations on it as they sync.
cmd-relay-list-none = The network uses no relay. Partners whose nodes cannot dial each other (home routers) need one: see "Connecting partners over the internet" in the guide.

## run

cmd-run-within-node = a node cannot be started from within a node
cmd-run-unjoined-device = a device that has not joined its organisation yet
cmd-run-no-runtime = cannot start the node's runtime: { $reason }
cmd-run-stopped = Stopped the node; everything is saved.
# $name is the organisation's name, or cmd-run-unjoined-device.
cmd-run-running = puente node for { $name } ({ $org }) is running on { $dir }.
cmd-run-control-socket =
    Control socket { $socket }: other puente commands on this data directory now go through this node.
    Press Ctrl-C (or send SIGTERM) to stop it.

## completions and man

cmd-man-cannot-write-page = could not write the manual page: { $reason }
cmd-man-cannot-write-pages = cannot write the manual pages to { $dir }: { $reason }
# $bin is the program's name, `puente`.
cmd-man-wrote = Wrote { $count } manual pages to { $dir }: { $bin }.1 and one per command (`man { $bin }-offer-add`).

## peer revoke, device revoke, peer role and peer revocations

# $min is the fewest characters of a device key accepted.
cmd-revoke-no-match = no organisation or device matches `{ $text }`; give an organisation's name or id (see `puente status`) or at least the first { $min } characters of a device key (see `puente peer list`)
cmd-revoke-no-device = no device key starts with `{ $text }`; give at least the first { $min } characters of a key from `puente peer list` or `puente whoami`
cmd-revoke-several = `{ $text }` matches several organisations or devices; give more of the device key, or the organisation's full id
# $why says what is wrong with the reason, like "looks like it contains a phone number".
cmd-role-not-device = a role belongs to an organisation: give its name or id (see `puente status`), not a device key
cmd-role-last-admin = making "{ $name }" a member would leave the network without an admin: nobody could invite or revoke anyone, or replace the encryption key, any more; make another organisation an admin first, or run the command again with --yes
# $role is `admin` or `member`.
cmd-role-done =
    { $role ->
        [admin] "{ $name }" is now an admin: it can now invite and revoke organisations and change roles.
       *[member] "{ $name }" is now a member: it publishes its own offers and holds.
    }
cmd-role-no-admin-warning = WARNING: the network has no admin now.
# $node is `yes` when a running node serves the command.
cmd-role-sending =
    { $node ->
        [yes] Your node is sending the change to every partner it is connected to now.
       *[no] Your node is not running: partners learn of the change when you start `puente run`.
    }
# $target names what is revoked: an organisation or a device.
cmd-revoke-already = { $target } is already revoked; see `puente peer revocations`
cmd-revoke-org-not-admin = only an admin organisation can revoke an organisation; ask an admin of your network (see `puente status`)
cmd-revoke-device-not-allowed = only a device of the same organisation or an admin can revoke a device; ask an admin of your network (see `puente status`)
cmd-revoke-last-admin = revoking { $target } would leave the network without an admin: nobody could invite or revoke anyone, or replace the encryption key, any more; if that is really what you want, run the command again with --yes
cmd-revoke-no-network = this node is not part of a network
cmd-revoke-done =
    Revoked { $target }.{ $has_reason ->
        [yes] { " " }Reason: { $reason }.
       *[no] { "" }
    }
    Revocation { $id }; new writes are encrypted under epoch { $epoch }.
cmd-revoke-no-admin-warning = WARNING: the network has no admin now: nobody can invite or revoke anyone, or replace the encryption key, any more.
cmd-revoke-self-warning = WARNING: you revoked this computer's own key: it is cut off from the network like any revoked party.
cmd-revoke-sending =
    { $node ->
        [yes] Your node is sending the revocation to every partner it is connected to now, and has cut the revoked keys off.
       *[no] Your node is not running: start `puente run` now. Until partners receive the revocation from it, they keep trusting the revoked key.
    }
cmd-revoke-does-head = What revocation does:
cmd-revoke-does-refused = Every node that has received the revocation refuses the revoked keys at once: no connection, nothing sent to them, none of their new changes accepted.
cmd-revoke-does-new-key = Everything written from now on is encrypted under a new key that the revoked party never receives.
cmd-revoke-does-spreads = The revocation spreads to every partner your node reaches, and replaying old grants cannot undo it.
cmd-revoke-does-not-rotated = This computer is not an admin's, so the key was not replaced yet (still epoch { $epoch }): an admin's node replaces it as soon as it receives the revocation. Until then, what is written can be read with the key the revoked party holds.
cmd-revoke-cannot-head = What revocation cannot do:
cmd-revoke-cannot-take-back = It cannot take back what the revoked party already synced: the exposure report below lists what it could read.
cmd-revoke-cannot-offline = Partners that are offline keep trusting the revoked key until the revocation reaches them: watch `puente peer revocations` until every partner has confirmed.
cmd-revoke-cannot-leaks = It cannot stop a partner that is still trusted from leaking. The defence is sharing less: coarse places, pseudonyms and short expiry.
cmd-revocations-no-network = This node is not part of a network yet; there are no revocations.
cmd-revocations-none = No revocations in this network.

## import and export

# One row of the import's report; $action is `create` or `unchanged`.
cmd-import-row =
    { $action ->
        [create] create line { $line }, { $handle }
        [unchanged] unchanged line { $line }, { $handle }
       *[other] { $action } line { $line }, { $handle }
    }
cmd-import-row-update = update line { $line }, { $handle }: { $fields }
cmd-import-row-rejected = rejected line { $line }, { $column }: { $reason }
cmd-import-row-rejected-line = rejected line { $line }: { $reason }
cmd-import-withdraw-row = withdraw { $handle }: no row names it
# What an import does; rejected and withdrawn rows are left out when there are none.
cmd-import-summary =
    { $created } new, { $updated } updated, { $unchanged } unchanged{ $rejected ->
        [0] { "" }
       *[other] , { $rejected } rejected
    }{ $withdrawn ->
        [0] { "" }
       *[other] , { $withdrawn } withdrawn
    }
cmd-import-dry-run = Dry run: { $summary }; nothing was written.
cmd-import-imported =
    { $count ->
        [one] Imported { $count } offer from { $file }: { $summary }.
       *[other] Imported { $count } offers from { $file }: { $summary }.
    }
cmd-import-refused-dry-run =
    { $count ->
        [one] { $count } of { $total } rows was rejected, so an import would write nothing (dry run: nothing was written); fix it, or add --allow-partial to import the { $valid } valid rows
       *[other] { $count } of { $total } rows were rejected, so an import would write nothing (dry run: nothing was written); fix them, or add --allow-partial to import the { $valid } valid rows
    }
cmd-import-refused =
    { $count ->
        [one] { $count } of { $total } rows was rejected and nothing was imported; fix it, or add --allow-partial to import the { $valid } valid rows
       *[other] { $count } of { $total } rows were rejected and nothing was imported; fix them, or add --allow-partial to import the { $valid } valid rows
    }
cmd-import-none-valid = none of the { $total } rows is valid; nothing was imported
cmd-import-cannot-read = cannot read { $file }: { $reason }
cmd-import-not-a-file = { $file } is not a file; give the path of a CSV file
cmd-import-too-large = { $file } is { $bytes } bytes; import at most 16 MiB at a time by splitting it into smaller files
# The progress bar: $bar is the bar, $progress the count done and the total.
cmd-import-progress = importing { $bar } { $progress } offers
cmd-export-table = export writes files: use --format json, csv or hsds (table is for reading on screen)
cmd-export-hsds-partners = an HSDS export publishes only your own organisation's programmes; drop --partners
cmd-export-no-profile = this device has no organisation profile yet, so there is nothing of its own to publish; join your organisation first
# $format is `csv`, `hsds` or `json`; $partners is `yes` with --partners.
cmd-export-wrote =
    Wrote { $format ->
        [csv] a CSV export
        [hsds] an HSDS 3.1 export (public programmes only)
       *[json] a JSON export
    } of { $count } offers ({ $partners ->
        [yes] yours and your partners'
       *[no] your own
    }) to { $file }. It is plain text: keep it safe and delete it when done.
cmd-export-cannot-write = cannot write { $file }: { $reason }
cmd-export-cannot-restrict = cannot restrict { $file }: { $reason }

cmd-history-not-admin = only an admin organisation can erase the network's history
cmd-history-future = --before { $date } is in the future; give a date up to today, or `now` to erase everything until this moment
cmd-history-erased = Erased the history before { $date } on this node: every key of a period that began before then is destroyed (the first period kept is epoch { $epoch }), and every organisation's records are kept as they are now, without their earlier versions.
cmd-history-new-key = This device moved to a new key, { $key } (fingerprint { $fingerprint }); its old key is revoked, because it could open what was sealed to it.
cmd-history-next = { $node ->
    [yes] Your running node sends the erasure to partners now. Each partner's node applies it when it arrives; `puente history status` shows who has.
   *[no] Start `puente run` to send the erasure to partners. Each partner's node applies it when it arrives; `puente history status` shows who has.
}
cmd-history-cannot-head = What erasing history cannot do:
cmd-history-cannot-not-yet = A partner's node that has not applied it yet still holds the old keys and versions: watch `puente history status` until every partner has.
cmd-history-cannot-copies = A partner that kept copies (exports, printouts, files, screenshots) keeps them.
cmd-history-cannot-backups = A backup made before the erasure still opens with the passphrase it was made under: delete those backups.
cmd-history-cannot-after = Key periods that began after the date are kept: copies of changes made since then still open with them.
cmd-history-cannot-disk = A disk can keep deleted blocks for a while: use full-disk encryption on every computer that runs puente.
cmd-history-none = No history has been erased in this network.
cmd-history-row = Erasure { $id } by { $by }, { $when }: every key before epoch { $epoch } destroyed.
cmd-history-applied-by = Applied by { $count } device(s):
cmd-history-not-yet = Not yet applied by { $count } device(s):
cmd-history-waiting-rebase = This node keeps its own copy of these organisations' records until their re-sent records arrive: { $orgs }.
cmd-history-handover = This node still keeps its old device key { $key } until a partner accepts the new one; the erasure on this node is complete after that.
