# rows: the words of the tables, reports and status lines people read (cli/src/rows,
# render.rs, output.rs). Machine output (JSON, CSV, enum values, ids, RFC 3339 times) never
# comes from here; values people type (kinds, counties, roles, `puente ...` commands) stay as
# they are inside the sentences.

## Writing output

rows-output-csv-failed = could not write CSV: { $reason }
rows-output-stdout-failed = could not write to standard output: { $reason }
rows-output-answer-failed = could not read the answer: { $reason }

## Times, durations and freshness
## $unit is a symbol (min, h, d), the same in every language.

rows-just-now = just now
rows-ago = { $count } { $unit } ago
rows-in = in { $count } { $unit }
rows-now = now
rows-freshness = confirmed { $ago }
rows-freshness-state = confirmed { $ago } ({ $state })

## States and quantities ($state, $status and $unit are the values JSON carries)

rows-offer-state =
    { $state ->
        [active] active
        [expired] expired
        [withdrawn] withdrawn
       *[other] { $state }
    }
rows-hold-status =
    { $status ->
        [pending] pending
        [confirmed] confirmed
        [overbooked] overbooked
        [declined] declined
        [released] released
        [expired] expired
        [invalid] invalid
       *[other] { $status }
    }
rows-quantity =
    { $unit ->
        [usd] { $count } usd
       *[other]
            { $count ->
                [one] { $count } { $unit }
               *[other] { $count } { $unit }s
            }
    }
rows-bond-within = { $band } within { $duration }

## Words in cells and key-value blocks

rows-yes = yes
rows-no = no
rows-this-device = this device
rows-unknown-device = unknown device ({ $key })
rows-target-org = "{ $name }" (organisation)
rows-target-device = device { $key } of "{ $name }"
rows-target-device-unknown = device { $key }

## Keys of key-value blocks (whoami, status, peer revocations)

rows-key-organisation = organisation
rows-key-organisation-id = organisation id
rows-key-public-key = public key
rows-key-fingerprint = fingerprint
rows-key-time-zone = time zone
rows-key-counties = counties
rows-key-intake = intake
rows-key-network = network
rows-key-epoch = epoch
rows-key-devices = devices
rows-key-node = node
rows-key-by = by
rows-key-reason = reason
rows-key-claimed = claimed
rows-key-effective = effective

## Table headers (shared by every table)

col-id = ID
col-member = MEMBER
col-role = ROLE
col-device = DEVICE
col-device-key = DEVICE KEY
col-reached = REACHED
col-last-sync = LAST SYNC
col-pending = PENDING
col-relay = RELAY
col-this-node = THIS NODE
col-mailbox = MAILBOX
col-offers-by = OFFERS BY
col-count = COUNT
col-state = STATE
col-status = STATUS
col-connected = CONNECTED
col-organisation = ORGANISATION
col-addresses = ADDRESSES
col-expires = EXPIRES
col-safety-phrase = SAFETY PHRASE
col-confirmed = CONFIRMED
col-claimed-time = CLAIMED TIME
col-by = BY
col-verdict = VERDICT
col-what = WHAT
col-offer = OFFER
col-kind = KIND
col-handle = HANDLE
col-counties = COUNTIES
col-created = CREATED
col-hold = HOLD
col-on-offer-of = ON OFFER OF
col-qty = QTY
col-needs = NEEDS
col-partner = PARTNER
col-when = WHEN
col-owner = OWNER
col-requester = REQUESTER
col-languages = LANGUAGES
col-available = AVAILABLE
col-soonest = SOONEST
col-freshness = FRESHNESS
col-intake = INTAKE
col-windows = WINDOWS
col-last-confirmed = CONFIRMED
col-window = WINDOW
col-start = START
col-end = END
col-repeats = REPEATS
col-total = TOTAL
col-next = NEXT
col-from = FROM
col-to = TO

## whoami and status

rows-device-pending = none yet: this device waits to join its organisation (`puente device add` on one of its devices, then `puente join TOKEN` here)
rows-no-network = none yet: `puente network create --name NAME`, or `puente join TOKEN`
rows-devices-line =
    { $count ->
        [one] 1, this one
       *[other] { $count }, this one and { $others } more (`puente device list`)
    }{ $waiting ->
        [yes] ; this device waits for the network's key: keep `puente run` running until an admin's node shares it
       *[no] { "" }
    }
# $what is `organisation` or `device`; $when is a local time and how long ago.
rows-revoked-sentence =
    { $what ->
        [organisation] Your organisation was revoked
       *[device] This device was revoked
    } by "{ $by }" { $when }{ $has_reason ->
        [yes] { " " }("{ $reason }")
       *[no] { "" }
    }: partners refuse everything this node writes and send it nothing new. Ask them if this is a mistake.
rows-status-revoked = REVOKED: { $sentence }
rows-status-network-pending = none yet: it joins its organisation's with `puente join TOKEN`
rows-status-node-running = running, listening on { $addresses }
rows-status-node-stopped = not running (start it with `puente run`)
rows-status-invitations-waiting =
    { $count ->
        [one] { $count } invitation waiting for confirmation: see `puente invite list`.
       *[other] { $count } invitations waiting for confirmation: see `puente invite list`.
    }
rows-reach-direct = direct since { $since }
rows-reach-relayed = via relay { $relay } since { $since }
rows-reach-unreachable = unreachable since { $since }
rows-relay-reachable-since = reachable through it since { $since }
rows-relay-not-connected-since = not connected since { $since }
rows-mailbox = { $deposited } deposited, { $collected } collected, { $pending } to send

## device list and peer list

rows-device-member = member
rows-device-revoked =
    revoked{ $has_at ->
        [yes] { " " }{ $at }
       *[no] { "" }
    }{ $has_reason ->
        [yes] { " " }({ $reason })
       *[no] { "" }
    }
rows-devices-of = Devices of "{ $org }":
rows-devices-hint = Add one with `puente device add`; cut a lost one off with `puente device revoke KEY`.
rows-no-partners = No partners yet. Invite one with `puente invite create --org NAME`, or join a network.

## invite list

rows-no-invitations = No invitations. Create one with `puente invite create --org NAME`.
rows-invitation-state =
    { $state ->
        [open] open
        [waiting-for-confirmation] waiting for confirmation
        [confirmed] confirmed
        [used] used
        [cancelled] cancelled
        [expired] expired
       *[other] { $state }
    }

## relay list

rows-relay-node-not-running = node not running
rows-relay-reachable = reachable through it
rows-relay-reachable-problem = reachable through it; { $problem }
rows-relay-not-connected = not connected
rows-relay-not-connected-problem = not connected: { $problem }

## peer revocations, and the revocation lines of status

rows-revocation-head = Revocation { $id }: { $target }
rows-revocation-not-effective = no: { $reason }
rows-key-this-device = { $key } (this device)
rows-confirmed-on-epoch = yes, on epoch { $epoch }
rows-not-heard-from-since = not heard from since { $since }
rows-revocation-all-confirmed = Every remaining member device has confirmed.
rows-revocation-missing =
    { $devices ->
        [one] { $missing } of { $devices } remaining member device
       *[other] { $missing } of { $devices } remaining member devices
    } not heard from yet: { $missing ->
        [one] until it is, it may still trust the revoked key.
       *[other] until they are, they may still trust the revoked key.
    }
rows-status-revoked-list = Revoked: { $targets }.
rows-status-revocation-missing =
    Revocation of { $target }: { $devices ->
        [one] { $missing } of { $devices } member device
       *[other] { $missing } of { $devices } member devices
    } not heard from since { $since }; see `puente peer revocations`.

## audit log

rows-audit-create = founded the network with "{ $name }" as admin, device { $key }
rows-audit-add-org = added "{ $name }" as { $role }, device { $key }
rows-audit-add-device = added device { $key } to "{ $org }"
rows-audit-set-role = made "{ $org }" { $role }
rows-audit-new-key =
    new encryption key, epoch { $epoch }, { $count ->
        [one] sealed to { $count } device
       *[other] sealed to { $count } devices
    }{ $burned ->
        [yes] { " " }(burned: never used for new writes)
       *[no] { "" }
    }
rows-audit-shared-key = shared the key of epoch { $epoch } with { $devices }
rows-audit-revoke-org =
    revoked organisation "{ $name }" with its { $count ->
        [one] { $count } device
       *[other] { $count } devices
    }{ $has_reason ->
        [yes] ; reason: { $reason }
       *[no] { "" }
    }
rows-audit-revoke-device =
    revoked { $target }{ $has_reason ->
        [yes] ; reason: { $reason }
       *[no] { "" }
    }
rows-audit-receipt =
    confirmed revocation { $id }{ $has_target ->
        [yes] { " " }of { $target }
       *[no] { "" }
    }, now on epoch { $epoch }
rows-audit-unknown = an operation this version does not describe
rows-audit-head =
    Membership history of "{ $network_name }" ({ $network }): { $count ->
        [one] { $count } operation
       *[other] { $count } operations
    }, oldest first.
rows-audit-verified = Verified end to end: every signature checks and every operation's parents are here.
rows-audit-unverified =
    { $count ->
        [one] WARNING: { $count } operation fails verification (signature or missing parents); report this to your network's admins.
       *[other] WARNING: { $count } operations fail verification (signature or missing parents); report this to your network's admins.
    }
rows-audit-invalid =
    { $count ->
        [one] { $count } operation has no effect (invalid): its author was not allowed to do it, or was revoked concurrently.
       *[other] { $count } operations have no effect (invalid): their authors were not allowed to do them, or were revoked concurrently.
    }
rows-audit-no-effect = { $what } [no effect: { $reason }]
rows-verdict =
    { $verdict ->
        [valid] valid
        [invalid] invalid
        [unknown] unknown
       *[other] { $verdict }
    }

## audit exposure, and the report revocations end with

rows-exposure-head-revoked = Exposure report: what { $who } could read when it was cut off (revocation { $id }, { $at }).
rows-exposure-explained = It lists every offer and hold with content encrypted under a key the revoked party held ({ $epochs }). puente cannot tell which of those reached it, so the list errs on the side of including too much. Use it to decide whom to warn.
rows-exposure-head-not-revoked = Exposure report: { $who } is not revoked, so it can read everything below now, and whatever partners publish next.
rows-exposure-own-not-listed = Its own offers and holds are not listed: it wrote them.
rows-exposure-nothing = Nothing: this node holds no offers or holds it could read.
rows-exposure-org-confirmed =
    { $name }: confirmed the revocation { $when }{ $whole ->
        [yes] { " " }(all of it: part came in a snapshot that cannot be told apart)
       *[no] { "" }
    }:
rows-exposure-org-not-confirmed =
    { $name }: has not confirmed the revocation yet; what it writes until it does is exposed too{ $whole ->
        [yes] { " " }(all of it: part came in a snapshot that cannot be told apart)
       *[no] { "" }
    }:
rows-exposure-none = no offers or holds
rows-epochs-none = no epoch
rows-epochs-one = epoch { $epoch }
rows-epochs-many = epochs { $epochs } and { $last }
rows-audit-erase = erased the history: every key before epoch { $epoch } destroyed
