# The coordinators' web page, and `puente open`.

## Times, as people say them

web-just-now = just now
web-now = now
web-ago = { $count } { $unit } ago
web-in = in { $count } { $unit }
web-days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}
web-hours = { $count ->
    [one] { $count } hour
   *[other] { $count } hours
}

## Serving the page, signing in

web-serving = Web page for coordinators: { $url } (run `puente open` to sign in)
web-port-in-use = port { $port } of 127.0.0.1 is taken by another program; choose another with --web-port (for example --web-port { $other }), or turn the page off with --no-web
web-cannot-listen = cannot serve the web page on { $addr }: { $reason }; choose another port with --web-port, or turn the page off with --no-web
web-open-needs-node = no puente node is running on { $dir }; start it with `puente run`, then run `puente open` again
web-open-off = this node runs without its web page (--no-web); stop it and start `puente run` without --no-web
web-open-opened = The link opens in your browser; it works once, for 10 minutes.
web-open-paste = Open this link in a browser on this computer; it works once, for 10 minutes.
web-refused-host = Refused: this page answers only at its own address on this computer (http://127.0.0.1 with its port).
web-refused-origin = Refused: this form was not sent from puente's own page.
web-refused-session = Refused: you are not signed in. Run `puente open` for a sign-in link.
web-refused-csrf = Refused: this form is out of date. Reload the page and try again.
web-sign-in-title = Sign in to puente
web-sign-in-how = To sign in, run this command on the computer where your node runs, and open the link it prints:
web-sign-in-why = Each link works once, for 10 minutes. Nobody else can use this page without a link of their own.
web-link-used = This sign-in link was already used, has expired, or was never valid. Run `puente open` for a new one.
web-signed-out = You are signed out.
web-sign-out = Sign out
web-skip = Skip to content
web-switch-language = Español
web-unreadable-answer = The node gave an answer this page cannot read; use the same puente version for the node and the page.
web-not-found = This page does not exist.
web-back-to-search = Back to search

## Navigation

web-nav-label = Main
web-nav-search = Search
web-nav-offers = Our offers
web-nav-publish = Publish an offer
web-nav-inbox = Inbox
web-nav-partners = Partners
web-nav-import = Import a spreadsheet
web-waiting = { $count ->
    [one] { $count } item needs you
   *[other] { $count } items need you
}

## Search

web-search-title = Find help across the network
web-search-button = Search
web-results = Results
web-no-match = No offers match. Try fewer filters or other dates.
web-found = { $count ->
    [one] { $count } offer matches.
   *[other] { $count } offers match.
}
web-any-kind = Any kind of help
web-field-kind = Kind of help
web-field-county = Counties
web-hint-county = 5-digit FIPS codes, separated by commas (Sacramento: 06067)
web-field-zone = Zone
web-hint-zone = Your own area label, such as south-sac; never an address
web-field-lang = Languages
web-hint-lang = Language codes separated by commas: es, en, mam, quc
web-field-from = From
web-field-to = Until (not included)
web-field-qty = How many
web-field-fresh = Confirmed
web-fresh-any = At any time
web-fresh-day = In the last day
web-fresh-3days = In the last 3 days
web-fresh-week = In the last week
web-field-accepts = Accepts
web-field-affirming = Affirming
web-col-offer = Offer
web-col-owner = Organisation
web-col-where = Where
web-col-languages = Languages
web-col-available = Available
web-col-soonest = Soonest
web-col-freshness = Still available?
web-col-intake = How to reach them
web-col-expires = Expires
web-confirmed-when = confirmed { $when }
web-withdrawn = withdrawn
web-expired = expired

## Our offers, publishing, editing

web-offers-title = Our offers
web-no-offers = Your organisation has no offers yet.
web-publish-title = Publish an offer
web-publish-privacy = Partners see everything below. Use a pseudonym (handle) and an area, never a name, phone number, e-mail or address.
web-field-handle = Handle (pseudonym)
web-hint-handle = Lowercase letters, digits and dashes, such as host-7f3k
web-field-label = Short description
web-hint-label = Shared with partners: no phone, e-mail, A-number or address
web-field-status = Status
web-field-expires = Expires unless confirmed
web-expires-default = After the usual time for this kind
web-field-renew = Renew for
web-keep-as-is = Keep as it is
web-window = Availability
web-field-start = First day
web-field-end = Last day (not included)
web-field-total = How many (beds, rooms, slots...)
web-field-weekly = Repeats every week
web-publish-button = Publish
web-windows = Availability
web-no-windows = No availability is open.
web-available-of = { $available } of { $total } available
web-still-available = Still available
web-withdraw = Withdraw
web-withdraw-sure = Yes, withdraw this offer
web-withdraw-tick = Tick "Yes, withdraw this offer" first; nothing was changed.
web-edit = Change this offer
web-save = Save changes

## Holds

web-holds-on-offer = Holds on this offer
web-no-holds = No holds.
web-place-hold = Place a hold
web-whole-window = The whole period (no dates needed)
web-place-hold-button = Place the hold
web-hold-line = { $qty } from { $from } to { $to }
web-lapses = lapses { $when }
web-hold-confirm = Confirm
web-hold-decline = Decline

web-our-holds-here = Our holds on this offer

## Inbox

web-inbox-title = Inbox
web-inbox-empty = Nothing needs you right now.
web-inbox-answer = { $partner } asks to hold { $qty } of
web-inbox-our-hold = Our hold of { $qty } with { $partner }:
web-inbox-expiring = About to expire, renew or withdraw:
web-our-holds = Our holds on partners' offers

## Partners, invitations, revocation

web-partners-title = Partners
web-col-partner = Organisation
web-col-role = Role
web-col-connection = Connection
web-col-last-sync = Last sync
web-col-actions = Actions
web-this-computer = this computer
web-not-connected = not connected
web-connected-direct = connected directly
web-connected-relay = connected through a relay
web-invitations = Invitations
web-no-invitations = No invitations.
web-invitation-made = Invitation for { $org } created. Send them this token by a safe channel (for example Signal); it works once.
web-invitation-token = Token
web-compare-phrase = They are waiting. Call them and compare this safety phrase; confirm only if theirs is the same:
web-phrase-matches = The phrase matches: confirm
web-cancel-invitation = Cancel the invitation
web-expires-when = expires { $when }
web-invite-title = Invite an organisation
web-field-org = Organisation's name
web-field-invite-expires = Valid for
web-invite-button = Create the invitation
web-revoke = Revoke
web-revoke-title = Revoke { $org }
web-revoke-warning = Revoking cuts this organisation off the network for good. Read what it does and cannot do:
web-revoke-does-1 = Every partner that receives the revocation stops trusting their keys at once, and new writes are encrypted under a key they never get.
web-revoke-does-2 = The revocation spreads to every partner your node reaches; it cannot be undone.
web-revoke-cannot-1 = It cannot take back what they already received: the report below lists what they could read.
web-revoke-cannot-2 = Partners that are offline keep trusting them until the revocation reaches them.
web-exposure = What they could read (exposure report)
web-field-reason = Reason (optional)
web-hint-reason = Shared with every partner and kept for good: a few plain words, no names
web-revoke-sure = Yes, revoke { $org }
web-revoke-tick = Tick the box to confirm the revocation first; nothing was changed.
web-revoked = { $org } is revoked.
web-back-to-partners = Back to partners

## Import

web-import-title = Import a spreadsheet
web-import-how = Upload a CSV file in puente's import format. To start from your current offers, download them below, edit the file in a spreadsheet and upload it again. You see what each row would do before anything is written.
web-download-offers = Download our offers as a spreadsheet (CSV)
web-upload-title = Choose a file
web-field-file = CSV file
web-withdraw-missing = Also withdraw our offers that the file does not list
web-check-button = Check the file
web-dry-run = What importing { $file } would do
web-dry-run-summary = { $created } new, { $updated } changed, { $unchanged } unchanged, { $rejected } rejected. Nothing is written until you press Import.
web-col-line = Line
web-col-handle = Handle
web-col-action = Would
web-col-why = Details
web-allow-partial = Import the valid rows and leave out the rejected ones
web-import-button = Import
web-upload-missing = Choose a CSV file first.
web-upload-unreadable = The upload could not be read; choose the file again.
web-upload-too-large = The file is too large; import at most 16 MiB at a time by splitting it into smaller files.
web-upload-gone = The file to import is no longer here (the page was reloaded or the node restarted); choose it again.

## Vocabulary: import actions, hold states, roles, invitation states

import-create = create
import-update = update
import-unchanged = unchanged
import-rejected = rejected
import-withdraw = withdraw
hold-pending = waiting for an answer
hold-confirmed = confirmed
hold-overbooked = overbooked
hold-declined = declined
hold-released = released
hold-expired = lapsed
hold-invalid = invalid
role-admin = admin
role-member = member
invitation-open = waiting for them to join
invitation-waiting-for-confirmation = waiting for your confirmation
invitation-confirmed = confirmed
invitation-used = joined
invitation-expired = expired
invitation-cancelled = cancelled

## Vocabulary: kinds of help

kind-host-home = Host home
kind-shelter-bed = Shelter bed
kind-dv-confidential-shelter = Confidential DV shelter
kind-bond-fund = Bond fund
kind-bond-obligor = Bond obligor
kind-parole-sponsor = Parole sponsor
kind-housing-sponsor = Housing sponsor
kind-accompany-court = Court accompaniment
kind-accompany-ice-checkin = ICE check-in accompaniment
kind-accompany-dmv = DMV accompaniment
kind-accompany-school = School accompaniment
kind-legal-consult = Legal consultation
kind-legal-representation = Legal representation
kind-bond-hearing-prep = Bond hearing preparation
kind-medical-primary = Primary medical care
kind-gender-affirming-care = Gender-affirming care
kind-hiv-care = HIV care
kind-mental-health = Mental health
kind-interpretation = Interpretation
kind-transport-driver = Driver
kind-rr-legal-observer = Rapid response legal observer
kind-rr-dispatcher = Rapid response dispatcher
kind-funds-emergency-cash = Emergency cash
kind-commissary = Commissary funds
kind-other = Other

## Vocabulary: who is accepted, affirmation, status, quantities

accepts-adult-women = Adult women
accepts-adult-men = Adult men
accepts-trans-women = Trans women
accepts-trans-men = Trans men
accepts-nonbinary = Nonbinary people
accepts-families-with-children = Families with children
accepts-youth-18-24 = Youth 18-24
accepts-couples = Couples
affirming-lgbtq = LGBTQ-affirming
affirming-trans = Trans-affirming
status-capacity = Has capacity
status-no-capacity = No capacity
status-waitlist = Waitlist
status-assessment-required = Assessment required
qty-bed = { $count ->
    [one] { $count } bed
   *[other] { $count } beds
}
qty-room = { $count ->
    [one] { $count } room
   *[other] { $count } rooms
}
qty-slot = { $count ->
    [one] { $count } slot
   *[other] { $count } slots
}
qty-shift = { $count ->
    [one] { $count } shift
   *[other] { $count } shifts
}
qty-seat = { $count ->
    [one] { $count } seat
   *[other] { $count } seats
}
qty-usd = { $count } USD
