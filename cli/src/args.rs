//! The command line as clap sees it: every command, flag and help text, and nothing else.
//!
//! Scripts depend on these names (issue 2, section 6): renaming a command or a flag is a
//! breaking change. Values with a closed vocabulary are parsed here so that `--help` and
//! errors name the accepted terms; values that need the organisation's time zone (dates and
//! windows) stay text until the store is open.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use puente_crdt::{
    Accepts, Accessibility, Affirming, BondBand, Capability, County, HouseholdNote, Kind, Language,
    LanguageQuery, StatusHint, SubjectType, Unit, Vetting, time,
};

/// The heading global flags are listed under in every command's help.
const GLOBAL: &str = "Global options";

const TOP_AFTER_HELP: &str = "\
Examples:
  puente init --org \"River Refuge\" --county 06067 --county 06113 --intake \"hotline, ask for intake\"
  puente offer add --kind host-home --handle host-7f3k --county 06067 --lang es --window +2d..+30d=1
  puente query --kind host-home --county 06067 --accepts trans-women --lang es --from +7d --to +14d
  puente import examples/data/river-refuge.csv --dry-run
  puente run

While `puente run` is running, the other commands use that node through its control socket
(puente.sock in the data directory): no passphrase is asked and changes reach partners at once.

Passphrase: puente reads it from PUENTE_PASSPHRASE, else from the first line of --passphrase-file
(which must be chmod 600), else asks on the terminal. Without a terminal and without either
source it stops with an error; it never waits for input.

Environment:
  PUENTE_DATA_DIR    the data directory (same as --data-dir)
  PUENTE_PASSPHRASE  the store passphrase (for scripts; prefer --passphrase-file)
  PUENTE_NOW         for testing and scripting only: an RFC 3339 time such as
                     2026-11-22T09:00:00-08:00 that puente uses as \"now\" instead of the clock
  RUST_LOG           log level on stderr (default warn; with --verbose, debug for puente itself);
                     logs never contain offer contents";

/// Publish, find and hold offers of help shared among partner organisations.
///
/// Everything puente stores is encrypted under your passphrase. Offers describe help (a room,
/// a bed, a court shift, a bond fund), never the people receiving it.
#[derive(Debug, Parser)]
#[command(name = "puente", version, after_help = TOP_AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Data directory [default: $XDG_DATA_HOME/puente or ~/.local/share/puente]
    #[arg(long, global = true, env = "PUENTE_DATA_DIR", value_name = "DIR", help_heading = GLOBAL)]
    pub data_dir: Option<PathBuf>,

    /// Read the passphrase from the first line of FILE (must be chmod 600)
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub passphrase_file: Option<PathBuf>,

    /// Configuration file [default: $PUENTE_CONFIG, else ~/.config/puente/config.toml]
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub config: Option<PathBuf>,

    /// Output format [default: table; for export: json]
    #[arg(long, global = true, value_enum, value_name = "FORMAT", help_heading = GLOBAL)]
    pub format: Option<Format>,

    /// Print only what was asked for (records, JSON, CSV, a token) and errors: no
    /// confirmations, hints or progress; logs at warn
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,

    /// Log puente's own steps on stderr (debug level), unless RUST_LOG is set
    #[arg(long, short = 'v', global = true, help_heading = GLOBAL)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people
    Table,
    /// JSON for scripts
    Json,
    /// CSV with a header row
    Csv,
    /// Open Referral HSDS 3.1 JSON (only for `puente export`)
    Hsds,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create this organisation's identity and encrypted store (or a new device's, --device)
    #[command(after_help = "\
Examples:
  puente init --org \"River Refuge\" --county 06067 --county 06113 --intake \"hotline, ask for intake\"
  puente init --org \"Placer Pride\" --county 06061 --tz America/Los_Angeles --passphrase-file ~/.puente-pass
  puente init --device

Prints the organisation id and the key fingerprint. Read the fingerprint aloud to partner
coordinators (by phone or in person) so that they can check they hold your real key.

With --device, the store is for one more computer of an organisation that already exists:
get a device invitation from one of its devices (`puente device add`) and run
`puente join TOKEN` on this computer.")]
    Init(InitArgs),

    /// Show this organisation's id, key and fingerprint
    #[command(after_help = "\
Examples:
  puente whoami
  puente whoami --format json")]
    Whoami,

    /// Publish and manage this organisation's offers
    #[command(subcommand)]
    Offer(OfferCommand),

    /// Claim capacity on partners' offers, and answer claims on yours
    #[command(subcommand)]
    Hold(HoldCommand),

    /// Find offers: every filter narrows the answer, best first
    #[command(after_help = "\
Examples:
  # Who can host a trans woman in Sacramento County next week, Spanish-speaking?
  puente query --kind host-home --county 06067 --accepts trans-women --lang es:fluent \\
      --from +7d --to +14d
  # Which bond funds can post at least $5k within 48 hours?
  puente query --kind bond-fund --min-usd 5000 --post-within 48h
  # Two volunteers for immigration court Thursday 1-4 pm
  puente query --kind accompany-court --from 2026-11-26T13:00 --to 2026-11-26T16:00 --qty 2
  # Mam or K'iche' interpretation, in person or by phone
  puente query --kind interpretation --lang mam --lang quc --format json

Repeated --kind, --county and --lang mean any of them; repeated --accepts, --affirming,
--accessibility and --capability mean all of them. Dates are YYYY-MM-DD, YYYY-MM-DDTHH:MM,
today, tomorrow, +Nd or +NdTHH:MM in your organisation's time zone; --to is exclusive.
Expired and withdrawn offers, and offers of revoked organisations, are hidden unless asked
for.")]
    Query(QueryArgs),

    /// Import offers from a CSV file: new handles create offers, known ones update them
    #[command(after_help = "\
Examples:
  puente import examples/data/river-refuge.csv --dry-run
  puente import examples/data/river-refuge.csv
  puente import offers.csv --allow-partial
  puente import offers.csv --withdraw-missing --dry-run

Rows are matched to your organisation's offers by handle: a new handle creates an offer, a
known one updates only the fields that changed, and a row that matches its offer changes
nothing, so importing the same file twice writes nothing the second time. --dry-run says per
row: create, update (which fields), unchanged or rejected (why). --withdraw-missing also
withdraws your offers that no row names (listed by --dry-run first).

The header is: handle,kind,subject,counties,zone,languages,accepts,affirming,accessibility,
household,capabilities,unit,windows,lead_time,max_stay,vetting,status,expires_in,label,
bond_band,post_within,owner (lists separated by ';'; owner is optional, and a row whose owner
is another organisation is rejected). `puente export --format csv` writes this format. If any
row is rejected nothing is imported, unless --allow-partial.")]
    Import(ImportArgs),

    /// Export your offers as JSON, CSV or Open Referral HSDS 3.1
    #[command(after_help = "\
Examples:
  puente export --format csv > offers.csv
  puente export --format json --output offers.json
  puente export --format csv --partners --output network.csv
  puente export --format hsds --output directory.json

CSV and JSON hold your organisation's own offers, unless --partners adds the partners' offers
(each row names its owner; `puente import` refuses rows of another organisation). The CSV has
the columns `puente import` reads, so export, edit in a spreadsheet and import is a round
trip. Exports are plain text: keep the file somewhere safe and delete it when done. The HSDS
export contains only your own organisation programmes and facilities, never households,
volunteers or partners.")]
    Export(ExportArgs),

    /// Run this node: sync with partners and serve other puente commands until stopped
    #[command(after_help = "\
Examples:
  puente run
  puente run --listen /ip4/0.0.0.0/tcp/4800 --listen /ip4/0.0.0.0/udp/4800/quic-v1
  puente run --listen /ip4/127.0.0.1/tcp/0 --mdns

Without --listen the node listens on port 4737 (TCP and QUIC) on every interface. It prints
where it listens and runs until Ctrl-C or SIGTERM, then saves everything and stops. Meanwhile
other puente commands on this data directory go through the node's control socket
(puente.sock in the data directory, readable by you only) without asking for the passphrase.
Only members of your network may connect; nothing is announced anywhere unless --mdns.

The node also serves the coordinators' web page on 127.0.0.1 (port 4780 unless --web-port;
--no-web turns it off); `puente open` gives a sign-in link for it.")]
    Run(RunArgs),

    /// Sign in to the web page of the node running here: prints a one-time link (and opens it
    /// in a browser when there is a desktop)
    #[command(after_help = "\
Examples:
  puente open
  puente open --no-browser

The link works once, for 10 minutes, on this computer only (the page listens on 127.0.0.1).
It signs the browser in until it has not been used for 12 hours, or until Sign out.")]
    Open(OpenArgs),

    /// Found a network of partner organisations (once, on the founding node)
    #[command(subcommand)]
    Network(NetworkCommand),

    /// Invite a partner organisation into your network, and confirm it (admins)
    #[command(subcommand)]
    Invite(InviteCommand),

    /// Join a network with the invitation token a partner sent you
    #[command(after_help = "\
Examples:
  puente join puente-invite:AQ3x...
  puente join \"$(cat invitation.txt)\" --wait 30m

The inviter's node must be running. puente connects to it, shows a safety phrase of four
words, and waits: read the phrase to the inviter over the phone; when they see the same words
they confirm, and this node becomes a member of the network. Offers you published before
joining are shared with the network. Stop `puente run` on this data directory first.")]
    Join(JoinArgs),

    /// The network, its members, who is connected, and what is still to be sent
    #[command(after_help = "\
Examples:
  puente status
  puente status --format json

Connection details come from the running node; without one, only what the store knows.
Exit status: 0 when the node runs, 3 when it does not (the status is printed all the same),
1 when the store cannot be read.")]
    Status,

    /// What needs you: holds on your offers to answer, your holds overbooked or declined,
    /// your offers about to expire
    #[command(after_help = "\
Examples:
  puente inbox
  puente inbox --format json

Holds lapse 48 hours after they are placed unless the offer's owner confirms them; offers
are listed from 72 hours before they expire.")]
    Inbox,

    /// What needs you, as one line per item for scripts and notifications
    #[command(after_help = "\
Examples:
  puente events --format json
  puente events --follow --format json | while read -r line; do notify-send puente \"$line\"; done

Each line names the kind of event (hold-to-answer, our-hold-overbooked, our-hold-declined,
offer-expiring), the ids, the offer's handle and the deadline: never a label or a note.
--follow needs a running node (`puente run`): it prints what needs you now, then each new
item as it arrives, until you stop it (Ctrl-C) or the node stops.")]
    Events(EventsArgs),

    /// Partners' devices: list them, tell puente where one can be reached, revoke one
    #[command(subcommand)]
    Peer(PeerCommand),

    /// This organisation's devices: add a computer, list them, revoke a lost or seized one
    #[command(subcommand)]
    Device(DeviceCommand),

    /// What a revoked partner could read, and the membership history, verified
    #[command(subcommand)]
    Audit(AuditCommand),

    /// Offline transfer: what a disconnected partner lacks, in a file for a USB stick
    #[command(subcommand)]
    Bundle(BundleCommand),

    /// Run a relay (and mailbox) for partners behind home routers, or choose the network's relays
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "\
Examples:
  puente relay --listen /ip4/0.0.0.0/tcp/4738 --listen /ip4/0.0.0.0/udp/4738/quic-v1 \\
      --announce /ip4/203.0.113.5/tcp/4738 --admit puente-relay:AQ...
  puente relay ticket                      # on an admin's node: the line for the relay's operator
  puente relay add /ip4/203.0.113.5/tcp/4738/p2p/12D3KooW...   # admins: the network uses it
  puente relay list
  puente relay remove 12D3KooW...

Without a subcommand, `puente relay` runs the relay service itself (usually on a small rented
server, or on a partner's machine with one port forwarded): libp2p's circuit relay for nodes
that cannot dial each other, and a mailbox that keeps sealed changes for partners who are not
online at the same time. It holds only what it cannot read, and only member devices of the
networks it was admitted to (--admit) may use it. It keeps its key and mailbox in --relay-dir
and runs until Ctrl-C or SIGTERM. See \"Connecting partners over the internet\" in the guide."
    )]
    Relay(RelayArgs),

    /// Print the shell completion script for bash, zsh, fish, elvish or powershell
    #[command(after_help = "\
Examples:
  puente completions bash > ~/.local/share/bash-completion/completions/puente
  puente completions zsh > ~/.zfunc/_puente      # with fpath+=(~/.zfunc) before compinit
  puente completions fish > ~/.config/fish/completions/puente.fish

The script is generated from the same definitions as --help, so it knows every command and
flag of this puente; write it again after updating. Needs no data directory or passphrase.")]
    Completions(CompletionsArgs),

    /// Print the manual page puente(1), or write one page per command into a directory
    #[command(after_help = "\
Examples:
  puente man | man -l -
  puente man --output ~/.local/share/man/man1

With --output, writes puente.1 and one page per command (puente-offer.1, puente-offer-add.1,
...) into DIR, creating it if needed. The pages are generated from the same definitions as
--help. Needs no data directory or passphrase.")]
    Man(ManArgs),

    /// The store's passphrase
    #[command(subcommand)]
    Passphrase(PassphraseCommand),

    /// Write an encrypted copy of the store to a file (also while the node runs)
    #[command(after_help = "\
Examples:
  puente backup /media/usb/puente-2026-11-23.backup
  puente backup --force --quiet ~/backups/puente.backup      # from cron or a systemd timer

While `puente run` runs, the node writes the copy itself, from one consistent reading of its
store; otherwise this command opens the store (it asks for the passphrase). The file is
encrypted like the store: it opens only with the passphrase the store has now (a later
`puente passphrase change` does not change it), and it is written readable by you only. An
existing file is replaced only with --force. `puente restore` brings it back as a new device of
your organisation.")]
    Backup(BackupArgs),

    /// Erase old history for good (admins), and see which partners have applied it
    #[command(subcommand)]
    History(HistoryCommand),

    /// Bring a backup back as a new device of your organisation, in a new data directory
    #[command(after_help = "\
Examples:
  puente restore /media/usb/puente-2026-11-23.backup --data-dir ~/.local/share/puente
  puente restore puente.backup --data-dir /srv/puente --passphrase-file ~/.puente-pass

Asks for the passphrase the store had when the backup was made. The data directory must not
exist or be empty. The restored store gets a new device key, and the backup's key is revoked
by it: changes made on the old computer after the backup are not kept (enter them again).
Start `puente run` then: it tells partners about the new key (through the old key, once) and
catches up with everything they hold. Do not revoke the old computer from elsewhere first:
the restore does it, and a revocation made without it would undo the new device too.")]
    Restore(RestoreArgs),

    /// The configuration file: where it is, and the settings in effect
    #[command(
        subcommand,
        after_help = "\
Examples:
  puente config path
  puente config show

The file is TOML; every key is optional, and flags and environment variables win over it:

  data_dir = \"/home/ana/puente-data\"
  passphrase_file = \"/home/ana/.config/puente/passphrase\"   # chmod 600
  log = \"info\"                       # error, warn, info, debug, or a RUST_LOG filter
  [node]
  listen = [\"/ip4/0.0.0.0/tcp/4737\", \"/ip4/0.0.0.0/udp/4737/quic-v1\"]
  mdns = false
  [web]
  enabled = true
  port = 4780
  [relay]                              # the relay service, `puente relay`
  dir = \"/srv/puente-relay\"
  listen = [\"/ip4/0.0.0.0/tcp/4738\"]
  announce = [\"/ip4/203.0.113.7/tcp/4738\"]"
    )]
    Config(ConfigCommand),

    /// Run the node as a service of this user (systemd)
    #[command(subcommand)]
    Service(ServiceCommand),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write puente.1 and one page per command into DIR instead of printing puente.1
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    #[command(subcommand)]
    pub command: Option<RelayCommand>,

    #[command(flatten)]
    pub serve: RelayServeArgs,
}

#[derive(Debug, Args)]
pub struct RelayServeArgs {
    /// Multiaddress to listen on (repeatable) [default: port 4738, TCP and QUIC, every interface]
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,

    /// The public address members reach this relay at, when it differs from what it listens on
    /// (a port forward, a cloud server's public IP); repeatable
    #[arg(long, value_name = "MULTIADDR")]
    pub announce: Vec<String>,

    /// Serve a network: the ticket an admin printed with `puente relay ticket` (repeatable;
    /// remembered, so give it once)
    #[arg(long, value_name = "TICKET")]
    pub admit: Vec<String>,

    /// Where the relay keeps its key and mailbox [default: $XDG_DATA_HOME/puente-relay or
    /// ~/.local/share/puente-relay]
    #[arg(long, env = "PUENTE_RELAY_DIR", value_name = "DIR")]
    pub relay_dir: Option<PathBuf>,

    /// Mailbox quota per network, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub mailbox_mib: u64,

    /// How long the mailbox keeps an entry, in days
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub mailbox_days: u64,
}

#[derive(Debug, Subcommand)]
pub enum RelayCommand {
    /// Print the line a relay's operator passes to `puente relay --admit` (admins)
    #[command(after_help = "\
Examples:
  puente relay ticket

The ticket names your network only by an opaque tag and lists the admin devices' keys, so the
relay can check that access updates come from your admins. It holds no secret and no name.")]
    Ticket,

    /// The network uses this relay from now on (admins; every member's node learns it)
    #[command(after_help = "\
Examples:
  puente relay add /ip4/203.0.113.5/tcp/4738/p2p/12D3KooWRk...
  puente relay add /ip4/203.0.113.5/tcp/4738/p2p/12D3KooWRk... --address /ip4/203.0.113.5/udp/4738/quic-v1

Give the address `puente relay` printed when it started. Run it again with other addresses to
change them.")]
    Add(RelayAddArgs),

    /// The network stops using a relay (admins)
    #[command(after_help = "\
Examples:
  puente relay remove 12D3KooWRk...")]
    Remove(RelayRemoveArgs),

    /// The relays the network uses, and whether this node holds a reservation on each
    #[command(after_help = "\
Examples:
  puente relay list
  puente relay list --format json")]
    List,
}

#[derive(Debug, Args)]
pub struct RelayAddArgs {
    /// The relay's address ending in /p2p/ and its id, as `puente relay` printed it
    #[arg(value_name = "MULTIADDR")]
    pub address: String,

    /// Another address of the same relay (repeatable), e.g. its QUIC address
    #[arg(long = "address", value_name = "MULTIADDR")]
    pub more: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RelayRemoveArgs {
    /// The relay's id (from `puente relay list`; the first characters are enough)
    #[arg(value_name = "RELAY")]
    pub relay: String,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Multiaddress to listen on (repeatable) [default: port 4737, TCP and QUIC, every interface]
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,

    /// Find partners' nodes on the local network with mDNS (off unless given)
    #[arg(long)]
    pub mdns: bool,

    /// Port of 127.0.0.1 for the coordinators' web page (0: any free port) [default: 4780, or
    /// any free port when that one is taken]
    #[arg(long, value_name = "PORT", conflicts_with = "no_web")]
    pub web_port: Option<u16>,

    /// Do not serve the web page
    #[arg(long)]
    pub no_web: bool,

    /// Serve metrics (OpenMetrics text, for Prometheus) at http://127.0.0.1:PORT/metrics (0: any
    /// free port); off unless given
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write a systemd user unit that runs `puente run` for this data directory
    #[command(after_help = "\
Examples:
  puente service install --user --passphrase-file ~/.config/puente/passphrase
  systemctl --user daemon-reload && systemctl --user enable --now puente
  loginctl enable-linger \"$USER\"      # keep it running after you log out, and at boot

A service cannot type the passphrase: it reads it from --passphrase-file (chmod 600), which
this command checks. Anyone who can read that file, or take the running computer, can open
the store: see \"Running puente as a service\" in the user guide.")]
    Install(ServiceInstallArgs),
}

#[derive(Debug, Args)]
pub struct ServiceInstallArgs {
    /// A unit of this user (systemd --user); the only kind puente writes
    #[arg(long)]
    pub user: bool,

    /// Replace a unit written before
    #[arg(long)]
    pub force: bool,

    /// A configuration file for the service to read (`--config`)
    #[arg(long = "service-config", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print where the configuration file is read from
    Path,
    /// Print the settings in effect (the file's, with puente's defaults filled in), as TOML
    Show,
}

#[derive(Debug, Subcommand)]
pub enum PassphraseCommand {
    /// Seal the store under a new passphrase (the node must be stopped); the old one stops
    /// opening it
    #[command(after_help = "\
Examples:
  puente passphrase change
  puente passphrase change --passphrase-file old.txt --new-passphrase-file new.txt

The current passphrase opens the store as usual (PUENTE_PASSPHRASE, --passphrase-file or a
prompt); the new one is asked twice on the terminal, or read from --new-passphrase-file (a
file only you can read). Only the key that unlocks the store changes, so it takes a moment
whatever the size of the store. A backup made before keeps opening with the old passphrase.")]
    Change(PassphraseChangeArgs),
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Make the network's history before DATE unreadable everywhere it is applied (admins)
    #[command(after_help = "\
Examples:
  puente history erase --before now
  puente history erase --before 2026-06-01 --format json

DATE is YYYY-MM-DD (midnight in your organisation's time zone), YYYY-MM-DDTHH:MM, today or
now, and not in the future. Every node that applies the erasure keeps each organisation's
records exactly as they are now and nothing of how they got there: earlier versions,
withdrawn offers' past values and old holds' history are gone; the encryption keys of every
period that began before DATE are destroyed; the node moves to a new device key (its old key
could open what was sealed to it, bundles included) and revokes the old one. Old bundles and
the sealed copies a relay's mailbox kept then open nothing of that period. A running node
sends it to partners at once; `puente history status` shows who has applied it.

What it cannot do: a partner that has not applied it yet still holds the keys; a partner that
kept copies (exports, printouts, files) keeps them; a backup made before the erasure still
opens with the passphrase it was made under, so delete those backups; and a disk can keep
deleted blocks (use full-disk encryption). It cannot be undone.")]
    Erase(HistoryEraseArgs),

    /// The erasures of the network and which member devices have applied them
    #[command(after_help = "\
Examples:
  puente history status
  puente history status --format json")]
    Status,
}

#[derive(Debug, Args)]
pub struct HistoryEraseArgs {
    /// Erase the history of every key period that began before DATE (or `now`)
    #[arg(long, value_name = "DATE")]
    pub before: String,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Replace the file if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file (`puente backup` wrote it)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct PassphraseChangeArgs {
    /// Read the new passphrase from the first line of FILE (mode 600) instead of asking
    #[arg(long, value_name = "FILE")]
    pub new_passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// Only print the link; do not start a browser
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Found a network with this organisation as its admin
    #[command(after_help = "\
Examples:
  puente network create --name \"Valley Rapid Response\"

Creates the network id, makes your organisation its first admin and creates the first
encryption key. Then invite partners with `puente invite create --org NAME`.")]
    Create(NetworkCreateArgs),
}

#[derive(Debug, Args)]
pub struct NetworkCreateArgs {
    /// The network's name, shown to its members
    #[arg(long, value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Create a single-use invitation token for a partner organisation
    #[command(after_help = "\
Examples:
  puente invite create --org \"Yolo Trans Health\"
  puente invite create --org \"Placer Pride\" --role admin --expires-in 2h
  puente invite create --org \"Casa Norte\" --address /ip4/192.0.2.10/tcp/4737 --yes

Prints a token to send to the partner (by Signal or e-mail) and the command to confirm. The
token works once and until it expires. When they run `puente join TOKEN`, you both see a
safety phrase: compare it over the phone before `puente invite confirm`. --yes confirms
without asking (for scripts). The token carries the addresses of your running node; without
a running node, give --address.")]
    Create(InviteCreateArgs),

    /// Invitations, and the safety phrase of those waiting for confirmation
    #[command(after_help = "\
Examples:
  puente invite list
  puente invite list --format json")]
    List,

    /// Admit the organisation waiting on an invitation, after comparing the safety phrase
    #[command(after_help = "\
Examples:
  puente invite confirm 3f9k2m1q

Only confirm when the words the partner reads to you match the phrase `puente invite list`
shows: otherwise someone else may hold the token. Cancel it instead.")]
    Confirm(InviteIdArgs),

    /// Withdraw an invitation that nobody has been admitted with
    #[command(after_help = "\
Examples:
  puente invite cancel 3f9k2m1q")]
    Cancel(InviteIdArgs),
}

/// Roles in a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Publishes its own offers and holds
    Member,
    /// Also invites and revokes organisations and changes roles
    Admin,
}

#[derive(Debug, Args)]
pub struct InviteCreateArgs {
    /// The organisation's name, as members will see it
    #[arg(long, value_name = "NAME")]
    pub org: String,

    /// Its role
    #[arg(long, value_enum, default_value = "member")]
    pub role: RoleArg,

    /// How long the token stays valid
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "24h")]
    pub expires_in: i64,

    /// Confirm automatically when the partner joins (for scripts; skips the phrase check)
    #[arg(long)]
    pub yes: bool,

    /// Where the partner reaches your node (repeatable) [default: the running node's addresses]
    #[arg(long, value_name = "MULTIADDR")]
    pub address: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InviteIdArgs {
    /// The invitation id (its first characters are enough)
    #[arg(value_name = "ID")]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The token the inviter sent
    #[arg(value_name = "TOKEN")]
    pub token: String,

    /// How long to wait for the inviter to confirm
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "15m")]
    pub wait: i64,
}

#[derive(Debug, Subcommand)]
pub enum PeerCommand {
    /// Member devices, their organisations, addresses and connection state
    #[command(after_help = "\
Examples:
  puente peer list
  puente peer list --format json")]
    List,

    /// Record where a partner's device can be reached (after its address changed)
    #[command(after_help = "\
Examples:
  puente peer add-address 3kq1...x7p0 /ip4/192.0.2.44/tcp/4737

KEY is the device key from `puente peer list` (the first characters are enough). A running
node dials the new address at once.")]
    AddAddress(AddAddressArgs),

    /// Cut a partner organisation (admins) or one device off the network, at once
    #[command(after_help = "\
Examples:
  puente peer revoke \"Yolo Trans Health\" --reason \"coordinator left on bad terms\"
  puente peer revoke f4afi4cj --reason \"laptop seized\"

ORG is an organisation's name (any case) or id: it and every device it has are cut off
(admins only). KEY is a device key from `puente peer list` (at least its first 8
characters): only that device is cut off, as with `puente device revoke`.

Every node that receives the revocation refuses the revoked keys at once, and an admin's
node replaces the network's encryption key with one the revoked party never gets. It cannot
take back what was already synced (the exposure report printed afterwards lists it), partners
that are offline keep trusting the key until the revocation reaches them (watch
`puente peer revocations`), and it cannot stop a partner that is still trusted from leaking.

It asks nothing and acts at once, except when it would leave the network without an admin:
then it stops unless --yes is given.")]
    Revoke(PeerRevokeArgs),

    /// Make a member organisation an admin, or an admin a member (admins only)
    #[command(after_help = "\
Examples:
  puente peer role \"Placer Pride\" admin
  puente peer role \"Placer Pride\" member

An admin organisation invites organisations, revokes them and changes roles; a member
publishes its own offers and holds. The change is signed into the membership log and reaches
every partner. If two admins change the same organisation's role at once, every node settles
on the same one (see docs/network.md). It stops, unless --yes is given, when it would leave
the network without an admin.")]
    Role(PeerRoleArgs),

    /// Revocations, and which member devices have confirmed each one
    #[command(after_help = "\
Examples:
  puente peer revocations
  puente peer revocations --format json

A member device confirms a revocation when its node applies it. One that has not confirmed
may still trust the revoked key, since the time the revocation was made.")]
    Revocations,
}

#[derive(Debug, Args)]
pub struct PeerRevokeArgs {
    /// The organisation (name or id) or device key (at least its first 8 characters)
    #[arg(value_name = "ORG|KEY")]
    pub target: String,

    /// Why, shown to every partner and kept in the membership log (a short label)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Go ahead even if the network would be left without an admin
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct PeerRoleArgs {
    /// The organisation (name or id)
    #[arg(value_name = "ORG")]
    pub org: String,

    /// Its new role
    #[arg(value_enum)]
    pub role: RoleArg,

    /// Go ahead even if the network would be left without an admin
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Create a single-use invitation for one more computer of this organisation
    #[command(after_help = "\
Examples:
  puente device add
  puente device add --expires-in 2h
  puente device add --address /ip4/192.0.2.10/tcp/4737

On the new computer, run `puente init --device`, then `puente join TOKEN` with the token this
prints. You both see a safety phrase: check it is the same before `puente invite confirm ID`
(`puente invite list` shows it). The new device then reads and writes this organisation's
offers like this one. Any device of the organisation can add one; an admin organisation's
device also hands it the network's key at once, otherwise an admin's node does when it next
connects. The token carries the addresses of your running node; without a running node, give
--address.")]
    Add(DeviceAddArgs),

    /// This organisation's devices, which one is this, and which are revoked
    #[command(after_help = "\
Examples:
  puente device list
  puente device list --format json")]
    List,

    /// Cut one device off (a lost laptop): the organisation, its offers and its other devices stay
    #[command(after_help = "\
Examples:
  puente device revoke f4afi4cj --reason \"laptop lost\"

KEY is the device key (see `puente peer list`, or `puente whoami` on that device), at least
its first 8 characters. A device of the same organisation or an admin can revoke it. The
same promises and limits as `puente peer revoke` apply; the exposure report follows.")]
    Revoke(DeviceRevokeArgs),
}

#[derive(Debug, Args)]
pub struct DeviceAddArgs {
    /// How long the token stays valid
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "24h")]
    pub expires_in: i64,

    /// Confirm automatically when the device joins (for scripts; skips the phrase check)
    #[arg(long)]
    pub yes: bool,

    /// Where the new device reaches your node (repeatable) [default: the running node's addresses]
    #[arg(long, value_name = "MULTIADDR")]
    pub address: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DeviceRevokeArgs {
    /// The device key (at least its first 8 characters)
    #[arg(value_name = "KEY")]
    pub key: String,

    /// Why, shown to every partner and kept in the membership log (a short label)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Go ahead even if the network would be left without an admin
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// What an organisation or device could read (when it was cut off, if revoked)
    #[command(after_help = "\
Examples:
  puente audit exposure \"Yolo Trans Health\"
  puente audit exposure f4afi4cj --format json

Per organisation, the offers (handle, kind, counties) and holds the party could read, so
that each organisation can decide whom to warn: every record with content encrypted under a
key that was given to one of the party's devices (not a guess by time: records written under
the key that replaced it are not listed). puente cannot tell which of those reached the party,
so the list errs on the side of including too much. For a party that is not revoked, that is
everything it can read now.")]
    Exposure(ExposureArgs),

    /// The membership history: who added, revoked or changed what, signed by which key
    #[command(after_help = "\
Examples:
  puente audit log
  puente audit log --format json

Every operation in the same order on every node, checked again end to end (signature,
parents present), with the time its author's computer claims and whether it took effect.")]
    Log,
}

#[derive(Debug, Args)]
pub struct ExposureArgs {
    /// The organisation (name or id) or device key (at least its first 8 characters)
    #[arg(value_name = "ORG|KEY")]
    pub target: String,
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Write what a partner lacks (or everything) to a file, encrypted for its devices
    #[command(after_help = "\
Examples:
  puente bundle export --for \"River Refuge\" /media/usb/for-river-refuge.puente
  puente bundle export --all /media/usb/everything.puente

With --for, the file holds what that organisation was known to lack when its node last
synced with yours (everything if it never did), and only its devices can open it. With --all,
it holds everything this node has, for every member device. Offers inside stay signed and
encrypted; the file is written readable by you only.")]
    Export(BundleExportArgs),

    /// Verify and apply a bundle a partner gave you
    #[command(after_help = "\
Examples:
  puente bundle import /media/usb/for-river-refuge.puente

Everything inside is checked as if it came from a partner's node: signatures, membership and
order. Importing the same bundle twice changes nothing.")]
    Import(BundleImportArgs),
}

#[derive(Debug, Args)]
pub struct BundleExportArgs {
    /// The organisation it is for (its name or id)
    #[arg(
        long = "for",
        value_name = "ORG",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub for_org: Option<String>,

    /// Everything this node holds, for every member
    #[arg(long)]
    pub all: bool,

    /// The file to write (must not exist yet)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct BundleImportArgs {
    /// The bundle file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct AddAddressArgs {
    /// The partner device's key (or its first characters)
    #[arg(value_name = "KEY")]
    pub key: String,

    /// Its address, such as /ip4/192.0.2.44/tcp/4737
    #[arg(value_name = "MULTIADDR")]
    pub multiaddr: String,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Organisation display name (a code name is fine)
    #[arg(long, value_name = "NAME", required_unless_present = "device")]
    pub org: Option<String>,

    /// County served, as a 5-digit FIPS code (repeatable; Sacramento 06067, Yolo 06113)
    #[arg(long, value_name = "FIPS", value_delimiter = ',')]
    pub county: Vec<County>,

    /// How partners reach you about an offer: a hotline, a Signal handle or a secure form
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub intake: String,

    /// A store for one more device of an organisation that already exists; it joins with a
    /// device invitation (`puente device add` on a device of that organisation)
    #[arg(long, conflicts_with_all = ["org", "county", "intake"])]
    pub device: bool,

    /// IANA time zone your coordinators enter dates in
    #[arg(long, value_name = "ZONE", default_value = time::DEFAULT_TZ)]
    pub tz: String,
}

#[derive(Debug, Subcommand)]
pub enum OfferCommand {
    /// Publish a new offer; prints its id on the last line
    #[command(after_help = "\
Examples:
  puente offer add --kind host-home --handle host-7f3k --county 06067 --zone south-sac \\
      --lang es --lang en:conversational --accepts trans-women --affirming trans \\
      --window +2d..+30d=1 --max-stay 30d --label \"quiet room, bus line nearby\"
  puente offer add --kind accompany-court --handle court-team-1 --county 06067 \\
      --window 2026-11-26T13:00..2026-11-26T16:00=2/weekly
  puente offer add --kind bond-fund --handle bond-fund-a --county 06067 \\
      --bond-band 5k-15k --post-within 48h

Defaults: --subject is household for host-home and org-program otherwise; --unit is the
kind's unit (room, bed, shift, slot, seat or usd); --vetting org-vetted; --status capacity;
--expires-in the kind's default (14d for housing, 21d for accompaniment, 30d for funds,
60d otherwise).

A window is START..END=TOTAL, optionally /weekly: END is exclusive, TOTAL counts units.
Dates are YYYY-MM-DD, YYYY-MM-DDTHH:MM, today, tomorrow, +Nd or +NdTHH:MM.
The label is shared with partners: no phone numbers, e-mail, A-numbers or addresses.")]
    Add(OfferAddArgs),

    /// Change one of your offers (lists given replace the old ones)
    #[command(after_help = "\
Examples:
  puente offer update 3f9k2m1q --lang es --lang mam:relay-via-es
  puente offer update 3f9k2m1q --add-window +30d..+60d=1 --cancel-window 8d0c1a2b
  puente offer update 3f9k2m1q --clear-zone --clear accepts --status waitlist

Kind, subject and unit cannot change: withdraw the offer and publish a new one.
A withdrawn offer cannot change at all.")]
    Update(OfferUpdateArgs),

    /// Withdraw one of your offers (final)
    #[command(after_help = "\
Examples:
  puente offer withdraw 3f9k2m1q
  puente offer withdraw 3f9k2m1q --yes

Withdrawal cannot be undone: to offer again, publish a new offer. Asks for confirmation on a
terminal; without a terminal it needs --yes.")]
    Withdraw(OfferWithdrawArgs),

    /// Confirm one of your offers is still good (renews freshness and expiry)
    #[command(after_help = "\
Examples:
  puente offer confirm 3f9k2m1q
  puente offer confirm 3f9k2m1q --expires-in 7d")]
    Confirm(OfferConfirmArgs),

    /// List offers, soonest expiry first
    #[command(after_help = "\
Examples:
  puente offer list --mine
  puente offer list --include-expired --include-withdrawn --format csv")]
    List(OfferListArgs),

    /// Show every field of one offer, its windows and the holds on it
    #[command(after_help = "\
Examples:
  puente offer show 3f9k2m1q
  puente offer show 3f9k2m1q --format json

ID is the full offer id or a unique prefix of at least 4 characters.")]
    Show(IdArg),
}

#[derive(Debug, Args)]
pub struct OfferAddArgs {
    /// What kind of help (host-home, shelter-bed, bond-fund, accompany-court, ...)
    #[arg(long, value_name = "KIND", long_help = kinds_help("What kind of help."))]
    pub kind: Kind,

    /// Your pseudonym for the host, volunteer or programme (lowercase, digits, dashes)
    #[arg(long, value_name = "HANDLE")]
    pub handle: String,

    #[command(flatten)]
    pub fields: FieldArgs,

    /// Who stands behind the offer [default: household for host-home, else org-program]
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<SubjectType>,

    /// What window totals count (bed, room, slot, shift, seat, usd) [default: the kind's]
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<Unit>,

    /// Availability: START..END=TOTAL[/weekly] (repeatable)
    #[arg(long, value_name = "SPEC")]
    pub window: Vec<String>,

    /// How long until the offer expires unless confirmed (e.g. 14d) [default: the kind's]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub expires_in: Option<i64>,
}

/// Descriptive fields shared by `offer add` and `offer update`.
#[derive(Debug, Args)]
pub struct FieldArgs {
    /// County served, 5-digit FIPS (repeatable)
    #[arg(long, value_name = "FIPS", value_delimiter = ',')]
    pub county: Vec<County>,

    /// Your own zone label within the county (e.g. south-sac); never an address
    #[arg(long, value_name = "ZONE")]
    pub zone: Option<String>,

    /// Language as TAG[:MODE], mode fluent (default), conversational, relay-via-es or phone
    #[arg(long, value_name = "TAG[:MODE]", value_delimiter = ',')]
    pub lang: Vec<Language>,

    /// Population accepted (repeatable): adult-women, trans-women, families-with-children, ...
    #[arg(long, value_name = "X", value_delimiter = ',')]
    pub accepts: Vec<Accepts>,

    /// Affirmation you vouch for (repeatable): lgbtq, trans
    #[arg(long, value_name = "X", value_delimiter = ',')]
    pub affirming: Vec<Affirming>,

    /// Accessibility (repeatable): step-free, ground-floor-bedroom, service-animal-ok
    #[arg(long, value_name = "X", value_delimiter = ',')]
    pub accessibility: Vec<Accessibility>,

    /// Household note (repeatable): pets, smokers, children-in-home
    #[arg(long, value_name = "X", value_delimiter = ',')]
    pub household: Vec<HouseholdNote>,

    /// Capability (repeatable): has-car, car-seat, can-be-bond-obligor, ...
    #[arg(long, value_name = "X", value_delimiter = ',')]
    pub capability: Vec<Capability>,

    /// Notice needed before use (e.g. 48h)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub lead_time: Option<i64>,

    /// Longest stay (e.g. 30d)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub max_stay: Option<i64>,

    /// self-declared, org-vetted or org-vetted-trained [add default: org-vetted]
    #[arg(long, value_name = "V")]
    pub vetting: Option<Vetting>,

    /// capacity, no-capacity, waitlist or assessment-required [add default: capacity]
    #[arg(long, value_name = "S")]
    pub status: Option<StatusHint>,

    /// Bond funds: the band you can post (under-1k, 1k-5k, 5k-15k, over-15k)
    #[arg(long, value_name = "B")]
    pub bond_band: Option<BondBand>,

    /// Bond funds: how soon you can post (e.g. 48h)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub post_within: Option<i64>,

    /// A short label shared with partners (no phone, e-mail, A-number or address)
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
}

#[derive(Debug, Args)]
pub struct OfferUpdateArgs {
    /// Offer id or unique prefix
    #[arg(value_name = "ID")]
    pub id: String,

    /// New handle
    #[arg(long, value_name = "HANDLE")]
    pub handle: Option<String>,

    #[command(flatten)]
    pub fields: FieldArgs,

    /// Remove the zone label
    #[arg(long, conflicts_with = "zone")]
    pub clear_zone: bool,

    /// Empty a field (repeatable)
    #[arg(long, value_enum, value_name = "FIELD")]
    pub clear: Vec<Clearable>,

    /// Add a window START..END=TOTAL[/weekly] (repeatable)
    #[arg(long, value_name = "SPEC")]
    pub add_window: Vec<String>,

    /// Cancel a window by id or unique prefix (final; repeatable)
    #[arg(long, value_name = "WINDOW_ID")]
    pub cancel_window: Vec<String>,

    /// Renew and set a new expiry, counted from now (e.g. 14d)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub expires_in: Option<i64>,
}

/// Fields that `offer update --clear` can empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Clearable {
    Zone,
    Languages,
    Accepts,
    Affirming,
    Accessibility,
    Household,
    Capabilities,
    LeadTime,
    MaxStay,
    Label,
    BondBand,
    PostWithin,
}

#[derive(Debug, Args)]
pub struct OfferWithdrawArgs {
    /// Offer id or unique prefix
    #[arg(value_name = "ID")]
    pub id: String,

    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct OfferConfirmArgs {
    /// Offer id or unique prefix
    #[arg(value_name = "ID")]
    pub id: String,

    /// New expiry counted from now [default: the kind's]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub expires_in: Option<i64>,
}

#[derive(Debug, Args)]
pub struct OfferListArgs {
    /// Only this organisation's offers
    #[arg(long)]
    pub mine: bool,

    /// Include expired offers
    #[arg(long)]
    pub include_expired: bool,

    /// Include withdrawn offers
    #[arg(long)]
    pub include_withdrawn: bool,

    /// Include offers of revoked organisations (kept for audit)
    #[arg(long)]
    pub include_revoked: bool,
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// Id or unique prefix (at least 4 characters)
    #[arg(value_name = "ID")]
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Claim units of a window of a partner's offer
    #[command(after_help = "\
Examples:
  puente hold place 3f9k2m1q --window 8d0c1a2b --qty 1
  puente hold place 3f9k2m1q --window 8d0c1a2b --qty 2 --from 2026-11-26T13:00 --to 2026-11-26T16:00

Say which dates with --from/--to; without them puente asks on the terminal, and without a
terminal it refuses (--whole-window holds the window's whole next occurrence). A hold lapses
after 48 h (beds and rooms) or 24 h unless the owner confirms it. You cannot hold your own
offers: change their windows instead.

Exit status: 0 the hold is within capacity (pending), 3 the hold was placed but is
overbooked (partners' earlier holds already take what you asked for; it waits for the
owner's answer), 1 any other failure, 2 a usage error.")]
    Place(HoldPlaceArgs),

    /// Release a hold you placed (final)
    #[command(after_help = "\
Examples:
  puente hold release 5h2k9q0a")]
    Release(IdArg),

    /// Confirm a hold placed on one of your offers
    #[command(after_help = "\
Examples:
  puente hold list --on-mine
  puente hold confirm 5h2k9q0a")]
    Confirm(IdArg),

    /// Decline a hold placed on one of your offers
    #[command(after_help = "\
Examples:
  puente hold decline 5h2k9q0a")]
    Decline(IdArg),

    /// List holds you placed and holds on your offers, with their status
    #[command(after_help = "\
Examples:
  puente hold list
  puente hold list --on-mine --format json

Status is confirmed, pending, overbooked (beyond capacity; waits for the owner), declined,
released, expired or invalid.")]
    List(HoldListArgs),
}

#[derive(Debug, Args)]
pub struct HoldPlaceArgs {
    /// Offer id or unique prefix
    #[arg(value_name = "OFFER_ID")]
    pub offer: String,

    /// Window id or unique prefix (see `puente offer show OFFER_ID`)
    #[arg(long, value_name = "WINDOW_ID")]
    pub window: String,

    /// Units to hold
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub qty: u32,

    /// Start of the held interval
    #[arg(long, value_name = "DATE", requires = "to")]
    pub from: Option<String>,

    /// End of the held interval (exclusive)
    #[arg(long, value_name = "DATE", requires = "from")]
    pub to: Option<String>,

    /// Hold the window's whole next occurrence instead of dates given with --from/--to
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub whole_window: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Keep printing new events as they arrive (needs a running node)
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct HoldListArgs {
    /// Only holds this organisation placed
    #[arg(long, conflicts_with = "on_mine")]
    pub mine: bool,

    /// Only holds placed on this organisation's offers
    #[arg(long)]
    pub on_mine: bool,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Kind of help (repeatable, any of)
    #[arg(long, value_name = "KIND", value_delimiter = ',', long_help = kinds_help("Kind of help (repeatable, any of)."))]
    pub kind: Vec<Kind>,

    /// County FIPS (repeatable, any of)
    #[arg(long, value_name = "FIPS", value_delimiter = ',')]
    pub county: Vec<County>,

    /// An owner's zone label, e.g. south-sac (repeatable, any of)
    #[arg(long, value_name = "ZONE", value_delimiter = ',')]
    pub zone: Vec<String>,

    /// Language TAG[:MODE] (repeatable, any of); without a mode any mode matches
    #[arg(long, value_name = "TAG[:MODE]", value_delimiter = ',')]
    pub lang: Vec<LanguageQuery>,

    /// Population accepted (repeatable, all of)
    #[arg(long, value_name = "X", value_delimiter = ',')]
    pub accepts: Vec<Accepts>,

    /// Affirmation (repeatable, all of)
    #[arg(long, value_name = "X", value_delimiter = ',')]
    pub affirming: Vec<Affirming>,

    /// Accessibility feature (repeatable, all of)
    #[arg(long, value_name = "X", value_delimiter = ',')]
    pub accessibility: Vec<Accessibility>,

    /// Capability (repeatable, all of)
    #[arg(long, value_name = "X", value_delimiter = ',')]
    pub capability: Vec<Capability>,

    /// Subject type: person-volunteer, household, org-program or org-facility
    #[arg(long, value_name = "S")]
    pub subject: Option<SubjectType>,

    /// Start of the range that must be available
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,

    /// End of the range (exclusive)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,

    /// At least N units available over the whole range
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub qty: Option<u32>,

    /// Owner organisation id (or unique prefix)
    #[arg(long, value_name = "ORG_ID")]
    pub owner: Option<String>,

    /// Confirmed within this long (e.g. 72h)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub fresh_within: Option<i64>,

    /// Bond funds guaranteeing at least this many US dollars
    #[arg(long, value_name = "N")]
    pub min_usd: Option<u64>,

    /// Bond funds that can post within this long (e.g. 48h)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub post_within: Option<i64>,

    /// Include expired offers
    #[arg(long)]
    pub include_expired: bool,

    /// Include withdrawn offers
    #[arg(long)]
    pub include_withdrawn: bool,

    /// Include offers of revoked organisations (kept for audit)
    #[arg(long)]
    pub include_revoked: bool,

    /// Show at most N offers
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// CSV file in the `puente import` format
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,

    /// Check every row and report, but write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Import the valid rows even if some are rejected
    #[arg(long)]
    pub allow_partial: bool,

    /// Also withdraw this organisation's offers whose handle no row of the file names (with
    /// --dry-run, list them first)
    #[arg(long)]
    pub withdraw_missing: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to FILE (created with mode 600) instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also export partners' offers (CSV and JSON; each row names its owner). Without it only
    /// this organisation's own offers are exported
    #[arg(long)]
    pub partners: bool,
}

/// Help text that lists every kind.
fn kinds_help(first: &str) -> String {
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    format!("{first} One of: {}", kinds.join(", "))
}

/// Parses a duration flag (`90m`, `48h`, `14d`, `2w`) into seconds.
fn duration(text: &str) -> Result<i64, time::TimeError> {
    time::parse_duration(text)
}
