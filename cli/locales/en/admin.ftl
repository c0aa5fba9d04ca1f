# Running puente for years: the passphrase, backups, the service.

admin-passphrase-node-running = a puente node is running on { $dir }; stop it (Ctrl-C where it runs, or `systemctl --user stop puente`), change the passphrase, then start it again
admin-new-passphrase-missing = the new passphrase cannot be asked without a terminal; give it with --new-passphrase-file FILE (a file only you can read)
admin-passphrase-changed = Changed the passphrase: only the new one opens this store now. A backup made before still opens with the old one.

## Backups, and restoring one as a new device

admin-backup-exists = { $file } already exists; choose another name, or add --force to replace it
admin-backup-cannot-write = cannot write the backup { $file }: { $reason }; nothing was written
admin-backup-wrote = Wrote a backup of this store to { $file } ({ $bytes } bytes). It opens only with the passphrase the store has now; keep it away from this computer.
# Shared with every partner as the reason of the old key's revocation.
admin-restore-reason = restored from a backup
admin-restored = Restored { $file } into { $dir } as a new device of "{ $name }".
admin-restored-key = This device's key: { $key } (fingerprint { $fingerprint }).
admin-restored-old = The backup's device key { $old } is revoked: what that computer wrote after the backup is not kept; enter it again here.
admin-restored-next = Next: start `puente run`. It tells your partners about this device (through the old key, once), then catches up with everything they hold.
admin-restored-same-key = Restored { $file } into { $dir }. The store was not part of a network, so it keeps its key.
admin-status-handover = RESTORED FROM A BACKUP: Partners do not know this device's key yet. The node tells them through the old key ({ $old }) as soon as it reaches one of them (`puente run`); until then they do not connect to it.

## The configuration file

admin-config-unreadable = cannot read the configuration file { $path }: { $reason }; fix it, or name another with --config FILE
admin-config-not-a-file = { $path } is not a configuration file (a directory, or larger than 64 KiB); name the right file with --config FILE
admin-config-invalid = the configuration file { $path } is wrong at line { $line }: { $what }; fix that line (`puente config show` prints the settings puente knows)
admin-config-none = no configuration file at { $path }; puente uses its defaults, flags and environment variables
admin-config-show-header = The settings in effect: { $path } with puente's defaults filled in
admin-config-not-through-node = `puente config` runs on its own, not through a node
admin-config-bad-log = the configuration file { $path } has log = "{ $log }", which is neither error, warn, info, debug nor a RUST_LOG filter; fix it

## The service

admin-service-user-only = puente writes only a unit of your own user: run `puente service install --user`
admin-service-needs-passphrase-file = a service cannot type the passphrase: put it in a file only you can read (`chmod 600 FILE`) and run `puente service install --user --passphrase-file FILE` (or name the file in the configuration file)
admin-service-no-store = there is no puente store in { $dir }; create it with `puente init` (or join a network) first, or name the right one with --data-dir
admin-service-no-binary = cannot tell where this puente program is: { $reason }; run it by its full path
admin-service-exists = { $path } exists already; look at it, then run the command again with --force to write it anew
admin-service-cannot-write = cannot write { $path }: { $reason }
admin-service-no-home = neither XDG_CONFIG_HOME nor HOME is set, so there is no place for a user unit; set HOME
admin-service-wrote = Wrote { $path }
admin-service-next = Next: `systemctl --user daemon-reload`, then `systemctl --user enable --now puente` to start it now and at each login; `loginctl enable-linger $USER` keeps it running when you log out and starts it at boot. `journalctl --user -u puente` shows its log; `puente status` works as usual.

## Metrics

admin-metrics-cannot-listen = cannot serve the metrics on { $addr }: { $reason }; choose another port with --metrics-port
admin-metrics-serving = Metrics: { $url }

## A store older than what partners hold from this computer (a backup restored over it)

admin-rolled-back = this store is older than what partners hold from this computer (was it restored from an old copy?), and writing now would fork its history, so it writes nothing more: give your organisation a new device (`puente device add` on one of its devices, on this one if it is the only one; then `puente init --device` and `puente join TOKEN` in a new data directory), then revoke this device from the new one with `puente device revoke KEY` (`puente whoami` here shows KEY)
admin-status-rolled-back = ROLLED BACK: This store is older than what partners hold from this computer (restored from an old copy?). It writes nothing more, so that its history does not fork, and still receives partners' changes. Give your organisation a new device (`puente device add`, then `puente init --device` and `puente join TOKEN` in a new data directory) and revoke this one from there (`puente device revoke KEY`).
admin-status-erasing = HISTORY ERASED, NOT FINISHED HERE YET: this node moved to a new device key and keeps only the current state; it finishes once a partner has accepted the new key and every partner has re-sent its records (`puente run`, then `puente history status`).
