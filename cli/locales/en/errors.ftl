# errors
#
# Why something failed, one line each, saying what to do next; also the passphrase prompts
# and the few notes the control socket's client writes. Every id here starts with `err-`.
#
# Never translated, kept verbatim inside the sentence: commands (`puente init`), flags and
# values people type (--data-dir, --yes, table, json), environment variables, CSV column
# names, ids and paths. Variables carry ids, names, paths, numbers and the operating system's
# or the node library's own words; none carries a passphrase or offer contents.

## Any command

err-nothing-said = something went wrong; run again with RUST_LOG=debug for details
err-exit-status = the command failed (exit status { $code })
err-internal = puente hit an internal error; nothing more was written, please report this
err-internal-at = puente hit an internal error at { $file }:{ $line }; nothing more was written, please report this

## A short reason for an I/O error, placed inside another sentence

err-io-not-found = no such file or directory
err-io-permission-denied = permission denied
err-io-already-exists = it already exists
err-io-is-a-directory = it is a directory
err-io-storage-full = the disk is full

## The store in the data directory

err-store-not-found = no puente data in { $dir }; run `puente init --org NAME` first, or point --data-dir at your data
err-store-already-exists = { $dir } already holds a puente store; choose another directory with --data-dir
err-store-wrong-passphrase = wrong passphrase for the store in { $dir } (or its header was altered); check PUENTE_PASSPHRASE or --passphrase-file and try again
err-store-locked = a puente node is already running on { $dir } (or another puente command is using it); stop that node or let the command finish, then try again
err-store-io = cannot access { $path }: { $reason }; check the data directory and try again
# $mode: the permission bits in octal, such as 755; $fix: the command that fixes them.
err-store-loose-permissions = { $path } can be accessed by other users (mode { $mode }); fix it with `{ $fix }`
err-store-weak-kdf = the store header asks for weaker key derivation (m = { $m_kib } KiB, t = { $t }, p = { $p }) than the minimum (m = 65536 KiB, t = 3, p = 4); refusing it
# $reason: what is wrong with the header, in the library's words.
err-store-bad-header = the store header { $path } is damaged ({ $reason }); restore it from a backup
err-store-unsupported-version = store format version { $version } is not supported by this version of puente; update puente
err-store-mismatched = the store header does not belong to the data file in { $dir }; restore both from the same backup
err-store-corrupt = stored value `{ $key }` in table `{ $table }` is corrupt; restore from a backup or re-sync from partners
err-store-damaged = the data file { $path } is damaged ({ $reason }); restore it from a backup or re-sync from partners
err-store-disk-full = the disk holding { $path } is full; free some space and retry (nothing was written)

## Offers, holds and windows named by id

err-not-found-offer = no offer matches `{ $text }`; list offers with `puente offer list` or `puente query`
err-not-found-hold = no hold matches `{ $text }`; list holds with `puente hold list`
err-not-found-window = no window matches `{ $text }`; see the offer's windows with `puente offer show OFFER_ID`
err-not-found-record = no record matches `{ $text }`; check the id and try again
# $what: offer, hold, window, or other for a kind of record this list does not know.
err-ambiguous = `{ $text }` matches { $count } { $what ->
        [offer] { $count ->
                [one] offer
               *[other] offers
            }
        [hold] { $count ->
                [one] hold
               *[other] holds
            }
        [window] { $count ->
                [one] window
               *[other] windows
            }
       *[other] { $count ->
                [one] record
               *[other] records
            }
    }; type more of the id
# $what: the stored record's name, spaces as hyphens (identity, node, epoch-key, members,
# membership, peer-vector, snapshot, log).
err-damaged = stored { $what ->
        [epoch-key] epoch key
        [peer-vector] peer vector
       *[other] { $what }
    } record is damaged; restore the data directory from a backup
err-poisoned = an earlier write failed; nothing more is accepted until puente is restarted

## Writes to offers and holds

err-write-device-pending = this device has not joined its organisation yet: on a computer of your organisation run `puente device add`, then here `puente join TOKEN`
err-write-no-epoch-key = this device has not received the network's key yet; keep `puente run` running until an admin's node shares it, then try again
# $action: change, withdraw or confirm.
err-write-not-own-offer = offer { $offer } belongs to another organisation; only its owner can { $action } it (you can place a hold)
err-write-own-offer = this is your own offer; change its windows instead of holding it
err-write-offer-withdrawn = that offer was withdrawn by its owner
err-write-window-cancelled = that window was cancelled by its owner
err-write-no-occurrence-left = that window has no occurrence left; pick another window
err-write-outside-occurrence = the hold's --from/--to must fall inside one occurrence of the window
err-write-not-requester = only the organisation that placed a hold can release it; as the owner, decline it
err-write-not-offer-owner = only the organisation that owns the offer can confirm or decline a hold on it

## The network and this node's place in it

err-not-in-network = this node is not part of a network yet; create one with `puente network create --name NAME` or join one with `puente join TOKEN` first
err-network-already-in = this node is already part of network { $network }; a node belongs to one network
err-network-device-store = this store was made for a new device of an existing organisation (`puente init --device`): it joins with `puente join TOKEN` and cannot found a network
err-network-holds-partners-records = this node already holds partners' records: it is part of a network
err-network-name-length = a network name must be 1 to { $max } characters
err-network-not-admin-revoke = only an admin organisation can revoke an organisation; ask an admin of your network
err-network-not-admin = only an admin organisation can do this; ask an admin of your network
err-network-no-longer-member = this device is no longer a member of its network
err-network-already-member = device { $device } is already a member
err-network-device-known = device { $device } is already known to the network
err-network-not-allowed-to-add-device = only a device of that organisation or an admin can add a device to it
err-network-org-not-accepted = the membership log did not accept the new organisation; check `puente status`
err-network-device-not-accepted = the membership log did not accept the new device; check `puente status`
err-network-revocation-not-accepted = the membership log did not accept the revocation; check `puente audit log`
err-network-empty-log = the inviter sent an empty membership log
err-network-not-listed = the inviter's membership log does not list this device; ask for a new invitation
err-network-no-epoch-yet = the inviter's network has no epoch key yet
err-network-device-invitation-for-org-store = this invitation adds a device to an existing organisation: use it on a new store made with `puente init --device`
err-network-org-invitation-for-device-store = this store was made with `puente init --device`: it can only join as a device of an existing organisation (`puente device add` on that organisation's node)
err-network-key-not-shared = the inviter did not share the network's key with this device; ask them to try again
err-network-expiry-not-in-future = --expires-in must be in the future
err-network-org-name-length = --org must be 1 to { $max } characters
err-network-org-name-taken = an organisation named `{ $name }` is already a member; pick another name
# $matches: how many invitations match; 0, or more than one.
err-network-invitation-not-found = { $matches ->
        [0] no invitation matches `{ $text }`; see `puente invite list`
       *[other] no single invitation matches `{ $text }`; see `puente invite list`
    }
err-network-invitation-not-waiting = invitation { $invitation } is not waiting for confirmation (nobody has joined with it yet, or it is done); see `puente invite list`
err-network-invitation-expired = invitation { $invitation } has expired; create a new one
err-network-invitation-not-cancellable = only an invitation nobody has been admitted with can be cancelled
err-network-org-already-revoked = that organisation is already revoked
err-network-no-such-org = no member organisation has that id; see `puente status`
err-network-device-already-revoked = that device is already revoked
err-network-no-such-device = no member device has that key; see `puente peer list`
err-network-not-allowed-to-revoke-device = only a device of the same organisation or an admin can revoke a device
err-network-bad-address = `{ $text }` is not a multiaddress such as /ip4/192.0.2.10/tcp/4737

## Bundles

err-bundle-no-network-to-export = this node is not part of a network yet; create one or join one before exporting a bundle
err-bundle-no-network-to-import = this node is not part of a network yet; create one or join one before importing a bundle
err-bundle-not-a-member = organisation { $org } is not a member of this network; see `puente status` for the members
err-bundle-no-recipients = the membership log lists no device to seal the bundle to
err-bundle-unusable-agreement-key = device { $device } has an unusable agreement key; the bundle cannot be sealed to it
err-bundle-too-many-devices = the network has more devices than a bundle can name
err-bundle-export-too-large = the bundle would be { $len } bytes, more than the { $max }-byte limit; export `--for` one organisation, or sync part of it first
err-bundle-too-many-items = the bundle would hold too many items
err-bundle-item-too-large = an item is too large for a bundle
err-bundle-import-too-large = the bundle is { $len } bytes, more than the { $max }-byte limit; nothing was imported
err-bundle-not-a-bundle = this file is not a puente bundle; nothing was imported
err-bundle-wrong-network = this bundle belongs to network { $bundle }, but this node is part of network { $ours }; nothing was imported
err-bundle-not-addressed = this bundle is not addressed to this device: it was exported for another organisation, or before this device joined; ask for one exported `--for` your organisation. Nothing was imported
err-bundle-altered = the bundle is damaged or was altered (it does not decrypt); nothing was imported
err-bundle-truncated = the bundle is truncated (the file is incomplete; copy it again); nothing was imported
# $what: what is wrong, in the library's words.
err-bundle-malformed = the bundle is malformed ({ $what }); nothing was imported
err-bundle-version = this bundle has format version { $found }, which this puente cannot read (it reads version { $supported }); update puente. Nothing was imported

## Backups (`puente restore`); nothing is written when one is refused

err-backup-not-a-backup = { $file } is not a puente backup; give the file `puente backup` wrote. Nothing was restored
err-backup-version = { $file } is a backup of format version { $found }, which this puente cannot read (it reads version { $supported }); update puente. Nothing was restored
err-backup-truncated = { $file } is incomplete (the copy was cut short); copy the backup again, or use an older one. Nothing was restored
err-backup-damaged = { $file } is damaged or was altered ({ $what }); use another copy of the backup. Nothing was restored
err-backup-wrong-passphrase = wrong passphrase for the backup { $file } (or it was altered): a backup opens with the passphrase the store had when the backup was made; check PUENTE_PASSPHRASE or --passphrase-file. Nothing was restored
err-backup-weak-kdf = the backup { $file } asks for weaker key derivation (m = { $m_kib } KiB, t = { $t }, p = { $p }) than the minimum (m = 65536 KiB, t = 3, p = 4); refusing it. Nothing was restored
err-backup-not-empty = { $dir } is not empty: puente restores a backup only into a new or empty data directory; choose one with --data-dir. Nothing was restored
err-backup-cannot-read = cannot read { $file }: { $reason }

## The network's relays, and why a relay turned a request down

err-relay-not-admin = only an admin organisation can choose the network's relays; ask an admin of your network (see `puente status`)
err-relay-not-in-use = that relay is not in use, so there is nothing to retire
err-relay-unchanged = that relay is already in use with exactly these addresses
err-relay-not-accepted = the membership log did not accept the relay change; check `puente audit log`
err-relay-turned-away = the relay turns this device away: it does not know it as a member of a network it serves (an admin's node tells it when it runs; `puente relay ticket` and `--admit` admit the network), or this device was revoked
err-relay-unknown-network = this relay does not serve the network yet: its operator starts it with --admit and the line `puente relay ticket` prints on an admin's node
err-relay-mismatch = the relay gave an answer that does not fit the request
err-relay-refused-unknown-network = the relay does not serve this network
err-relay-refused-not-admin = only the network's admins may change access
err-relay-refused-not-member = the relay does not know this device as a member
err-relay-refused-full = the mailbox is full ({ $used_entries } of { $max_entries } entries, { $used_bytes } of { $max_bytes } bytes)
err-relay-refused-too-large = an entry is larger than the { $max } bytes kept
err-relay-refused-malformed = malformed request
err-relay-refused-unavailable = the relay cannot store anything right now

## Roles

err-role-not-admin = only an admin organisation can change roles; ask an admin of your network (see `puente status`)
err-role-org-revoked = that organisation is revoked; re-adding it takes a new invitation
# $role: admin or member, the role the organisation already has.
err-role-already = { $role ->
        [admin] that organisation is already an admin
       *[member] that organisation is already a member
    }
err-role-not-accepted = the membership log did not accept the role change; check `puente audit log`

## Invitations and joining

err-invite-bad-token = this is not a complete puente invitation; copy the whole token (it starts with `{ $prefix }`) and try again
# $what: what is wrong, in the library's words.
err-invite-malformed = malformed join message: { $what }
err-invite-bad-signature = the join request's signature is not valid
err-invite-bad-name = an organisation name must be 1 to { $max } characters
err-join-unreachable = cannot reach the inviter at { $addresses }; check that their node is running (`puente run`) and reachable from here, then try again
# $reason: one of the err-join-refusal-* sentences.
err-join-refused = the inviter refused: { $reason }
err-join-closed = the inviter's node closed the connection: the invitation is used, expired or cancelled, or the token was not made by this inviter; ask for a new invitation
err-join-not-confirmed = the inviter did not confirm within { $minutes } { $minutes ->
        [one] minute
       *[other] minutes
    }; ask them to run `puente invite confirm`, then join again
err-join-device-invitation = this invitation adds a device to an existing organisation, and this data directory holds an organisation's own store; on the new device run `puente init --device` (with an empty data directory), then `puente join TOKEN` there
err-join-organisation-invitation = this invitation is for a new organisation, but this store was made with `puente init --device` to become a device of an existing one; ask a device of your organisation for a device invitation (`puente device add`) and join with that
err-join-device-not-empty = this store was made with `puente init --device` but holds records written before joining; a new device must start empty: run `puente init --device` with another, empty data directory and join from there
err-join-no-address = the invitation carries no address; ask the inviter for a token made while their node runs, or with --address
err-join-not-an-answer = the inviter's node sent something that is not a join answer; try again, or ask the inviter for a new invitation
err-join-refusal-unknown-invitation = this invitation is unknown here; ask for a new one
err-join-refusal-bad-signature = the join request is not signed by the device it names
err-join-refusal-expired = this invitation has expired; ask for a new one
err-join-refusal-cancelled = this invitation was cancelled
err-join-refusal-cancelled-while-waiting = the inviter cancelled this invitation
err-join-refusal-used = this invitation has already been used; ask for a new one
err-join-refusal-not-recorded = the inviter's node could not record the request; try again
err-join-refusal-malformed = malformed join request

## Values the record library refused: a flag's value, a field of an offer, hold or profile,
## a cell of an import

# A flag's value its parser refused, as clap words the line. $value: what was typed;
# $arg: the flag as clap shows it (--county <FIPS>); $reason: one of the sentences below.
err-invalid-value = invalid value '{ $value }' for '{ $arg }': { $reason }
err-county = county `{ $text }` is not a 5-digit FIPS code (Sacramento is 06067, Yolo 06113, Placer 06061)
err-language = language `{ $text }` is not a BCP 47 or ISO 639-3 tag such as es, en, mam or quc
# $what: the vocabulary, spaces as hyphens (kind, subject-type, language-mode, accepts-value,
# affirming-value, accessibility-value, household-note, capability, unit, vetting-level,
# status, bond-band, requester-state, decision); $expected: the accepted terms, verbatim.
err-unknown-term = unknown { $what ->
        [subject-type] subject type
        [language-mode] language mode
        [accepts-value] accepts value
        [affirming-value] affirming value
        [accessibility-value] accessibility value
        [household-note] household note
        [vetting-level] vetting level
        [bond-band] bond band
        [requester-state] requester state
       *[other] { $what }
    } `{ $text }`; expected one of: { $expected }
# The label check never repeats the label. The .reason attribute is the same refusal for a
# revocation's --reason, placed in err-revocation-reason.
err-label-too-long = label is { $count } characters; keep it to { $max } or fewer
    .reason = is { $count } characters; keep it to { $max } or fewer
err-label-control-character = label contains a line break or control character; use a single plain line
    .reason = contains a line break or control character; use a single plain line
err-label-phone-number = label looks like it contains a phone number; partners reach offers through your intake route, so leave contact details out
    .reason = looks like it contains a phone number; partners reach offers through your intake route, so leave contact details out
err-label-email = label looks like it contains an e-mail address; partners reach offers through your intake route, so leave contact details out
    .reason = looks like it contains an e-mail address; partners reach offers through your intake route, so leave contact details out
err-label-a-number = label looks like it contains an A-number; never put case or immigration identifiers in shared offers
    .reason = looks like it contains an A-number; never put case or immigration identifiers in shared offers
err-label-street-address = label looks like it contains a street address; share only the county and a zone label, never where a home or shelter is
    .reason = looks like it contains a street address; share only the county and a zone label, never where a home or shelter is
# $why: the .reason attribute of one of the err-label-* messages.
err-revocation-reason = --reason is shared with every partner and kept in the membership log for good, and it { $why }
# $what: handle or zone.
err-slug = { $what } must be 2-32 characters of a-z, 0-9 and '-', not starting or ending with '-', with fewer than 7 digits (for example host-7f3k)
# today, tomorrow, +Nd and the formats are what people type: never translated.
err-duration = `{ $text }` is not a duration; write it like 90m, 48h, 14d or 2w
err-date = `{ $text }` is not a date; write YYYY-MM-DD, YYYY-MM-DDTHH:MM, today, tomorrow, +Nd or +NdTHH:MM
err-time-zone = unknown time zone `{ $text }`; use an IANA name such as America/Los_Angeles

## Rules of the schema

err-rule-window-ends-before-start = a window must end after it starts (START..END=TOTAL, END exclusive)
err-rule-window-too-long = a window may last at most ten years
err-rule-weekly-window-too-long = a weekly window must be at most one week long
err-rule-window-total = a window's total must be between 1 and { $max }
err-rule-no-county = an offer needs at least one county (a 5-digit FIPS code)
err-rule-too-many-counties = an offer may list at most { $max } counties
err-rule-too-many-languages = an offer may list at most { $max } languages
err-rule-too-many-windows = an offer may have at most { $max } windows
err-rule-too-many-windows-after-change = too many windows on one offer
# $field: the import column of the duration (lead_time, max_stay, post_within, expires_in).
err-rule-out-of-range = { $field ->
        [lead_time] lead time
        [max_stay] max stay
        [post_within] post within
        [expires_in] expires-in
       *[other] { $field }
    } is out of range
err-rule-bond-fields-without-bond-fund = bond band and post-within apply only to bond funds (kind bond-fund, unit usd)
err-rule-bond-fund-not-in-usd = a bond fund is counted in usd
err-rule-hold-quantity = a hold's quantity must be between 1 and { $max }
err-rule-hold-ends-before-start = a hold must end after it starts
err-rule-own-offer = an organisation does not place holds on its own offers; change the window instead
err-rule-org-name = organisation name must be 1-{ $max } characters on one line
err-rule-intake = intake route must be at most { $max } characters on one line

## Windows (--window, --add-window, an import's windows cell)

# $spec: the window as written.
err-window-syntax = window `{ $spec }` is not START..END=TOTAL or START..END=TOTAL/weekly (for example +1dT13:00..+1dT16:00=2/weekly or 2026-12-01..2026-12-15=1)
err-window-total = window `{ $spec }` has total `{ $total }`; write a whole number from 1 to { $max }
# $reason: err-date or err-time-zone.
err-window-date = window `{ $spec }` has a date that was not understood: { $reason }
# $reason: one of the err-rule-* sentences.
err-window-refused = window `{ $spec }` was refused: { $reason }
err-window-too-many = an offer may have at most { $max } windows

## Files to import, and their rows (the column is named before the sentence)

# $columns: every column of the format, comma-separated.
err-import-empty = the file is empty; the first line must be a header naming the columns: { $columns }
err-import-too-large = the file is { $bytes } bytes; import at most { $max } bytes (16 MiB) at a time by splitting it into smaller files
err-import-too-many-rows = the file has more than { $max } rows; split it into smaller files
err-import-header-unknown = the header on line 1 has an unknown column `{ $name }`; the accepted columns are: { $columns }
err-import-header-duplicate = the header on line 1 names the column `{ $name }` twice; the accepted columns are: { $columns }
# $names: the missing columns, comma-separated.
err-import-header-missing = the header on line 1 lacks the required column(s) { $names }; the accepted columns are: { $columns }
err-import-header-empty-name = the header on line 1 has an empty column name at position { $position }; the accepted columns are: { $columns }
err-import-header-not-utf8 = the header on line 1 is not UTF-8 text; save the file as UTF-8 ("CSV UTF-8" in a spreadsheet); the accepted columns are: { $columns }
# $reason: the CSV reader's own words.
err-import-malformed = line { $line }: the file could not be read as CSV ({ $reason })
err-row-cell-count = the row has { $found } cells but the header has { $expected } columns; put a label that contains a comma in double quotes
err-row-not-utf8 = the cell is not UTF-8 text; save the file as UTF-8 ("CSV UTF-8" in a spreadsheet)
err-row-cell-too-long = the cell is { $chars } characters; a cell may hold at most { $max }
err-row-duplicate-handle = handle `{ $handle }` is already used on line { $first }; handles must be unique within the file
# $column: the CSV column's name.
err-row-required = { $column } is required
err-row-owner = owner must be an organisation id as an export writes it, or empty

## Rows of an import

err-row-other-organisation = this row belongs to another organisation ({ $owner }); an import only changes your own offers, so remove the row (export without --partners to get only yours)
# $field: the CSV column's name.
err-row-unchangeable = the { $field } of offer { $offer } cannot change; withdraw it (`puente offer withdraw { $offer }`) and import the row under a new handle
err-row-shared-handle = { $offers } of your offers share this handle, so the row cannot say which to update; give them distinct handles with `puente offer update`

## Starting a node

err-node-port-in-use = cannot listen on { $addr }: the port is already in use (another puente node?); pass --listen with another port, such as --listen /ip4/0.0.0.0/tcp/{ $port } --listen /ip4/0.0.0.0/udp/{ $port }/quic-v1
err-node-listen = cannot listen on { $addr }: { $reason }; pass --listen with another address or port
err-node-invalid-address = --listen: { $reason }
err-node-thread = the node could not start: cannot start the node's thread: { $reason }; free some memory and try again
err-node-could-not-start = the node could not start: { $reason }

## Commands handed to a running node (the client's side)

err-client-argument-not-utf8 = an argument is not UTF-8 text, so it cannot be passed to the node running on { $dir }; rename the file or stop the node
err-client-cwd-not-passable = the current directory cannot be passed to the node running on { $dir }; run the command from another directory
err-client-not-withdrawn = Not withdrawn; nothing changed.
err-client-no-reason = the node reported a failure without a reason; run RUST_LOG=debug puente run to see more
err-client-stopped-answering = the node running on { $dir } stopped answering; if it was stopped, run the command again
err-client-cannot-send = cannot send the command to the node running on { $dir }: { $reason }; try again
err-client-connection-lost = the node running on { $dir } closed the connection before answering (is it stopping?); check with `puente offer list` whether anything changed, then try again
err-client-not-understood = the node running on { $dir } sent an answer this puente does not understand; use the same puente version for the node and the commands

## Commands handed to a running node (the node's side)

err-server-cannot-read-dir = cannot read { $dir }: { $reason }
err-server-socket-is-directory = { $path } is a directory, where the control socket belongs; remove it and try again
err-server-cannot-remove-socket = cannot remove the leftover control socket { $path }: { $reason }
err-server-cannot-create-socket = cannot create the control socket { $path }: { $reason }; use a data directory with a shorter path
err-server-cannot-restrict-socket = cannot restrict the control socket { $path }: { $reason }
err-server-frame-too-large = a frame of { $len } bytes is over the limit of { $max }
err-server-request-timeout = no request arrived in time; puente commands send theirs at once
err-server-request-ended-early = the request ended early
err-server-not-a-request = the request is not a puente control request
err-server-protocol-version = this node speaks control protocol version { $ours }, not { $theirs }; use the same puente version as the running node
err-server-cwd-not-absolute = the request's working directory is not an absolute path
err-server-invalid-arguments = invalid arguments
err-server-init-refused = a node is already running here; `puente init` is for a new, empty data directory (choose one with --data-dir)
err-server-join-refused = stop the node (Ctrl-C where it runs) before `puente join`, then start it again
err-server-run-refused = a node is already running here; stop it (Ctrl-C where it runs) before starting another
err-server-restore-refused = a node is already running here; `puente restore` is for a new, empty data directory (choose one with --data-dir)
err-server-internal = the node hit an internal error running this command; please report this
# $reason: why the node could not run it, in the node library's words.
err-server-did-not-run = { $reason }; the command did not run

## Settings every command reads

err-format-hsds-export-only = --format hsds is only for `puente export`; use table, json or csv here
err-format-csv-unavailable = --format csv is not available for this command; use table or json
err-replica-asked-twice = this command asked for the node's replica twice; please report this
err-bad-now = PUENTE_NOW `{ $text }` is not an RFC 3339 time such as 2026-11-22T09:00:00-08:00; fix or unset it
err-no-data-dir = cannot tell where to keep data: pass --data-dir DIR or set PUENTE_DATA_DIR

## The store passphrase, and the prompts that ask for it

err-passphrase-env-not-utf8 = PUENTE_PASSPHRASE is not valid UTF-8; set it to the passphrase text
err-passphrase-missing = no passphrase: set PUENTE_PASSPHRASE or pass --passphrase-file FILE (there is no terminal to ask on)
err-passphrase-empty = the passphrase is empty; give the store passphrase
err-passphrase-too-short = the passphrase is too short; use at least { $min } characters (a few random words are best)
err-passphrase-differ = the two passphrases differ; run the command again
err-passphrase-terminal = could not read the passphrase from the terminal: { $reason }
err-passphrase-file-unreadable = cannot read passphrase file { $path }: { $reason }
err-passphrase-file-not-regular = passphrase file { $path } is not a regular file
err-passphrase-file-readable-by-others = passphrase file { $path } can be read by other users; run `chmod 600 { $path }` and try again
err-passphrase-file-too-large = passphrase file { $path } is larger than { $max } bytes; is it the right file?
err-passphrase-file-not-utf8 = passphrase file { $path } is not UTF-8 text
# Prompts: the program adds one space after each.
err-passphrase-prompt-open = Passphrase for { $dir }:
err-passphrase-prompt-new = New passphrase:
err-passphrase-prompt-repeat = Repeat the passphrase:
err-passphrase-choose = Choose a passphrase for the new store in { $dir } (at least { $min } characters).
err-passphrase-keep-safe = Without it nobody, including you, can read the store: keep it somewhere safe.

err-network-nothing-to-erase = nothing before that date is left to erase: no key period began before it, or an earlier erasure covered it; see `puente history status`
err-network-erasure-not-accepted = the membership log did not accept the erasure; check `puente audit log`
err-write-awaiting-rebase = history was erased and another device of your organisation is re-sending its records; try again once this node has synced with it (`puente history status`)
