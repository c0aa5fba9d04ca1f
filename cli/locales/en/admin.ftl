# Running puente for years: the passphrase, backups, the service.

admin-passphrase-node-running = a puente node is running on { $dir }; stop it (Ctrl-C where it runs, or `systemctl --user stop puente`), change the passphrase, then start it again
admin-new-passphrase-missing = the new passphrase cannot be asked without a terminal; give it with --new-passphrase-file FILE (a file only you can read)
admin-passphrase-changed = Changed the passphrase: only the new one opens this store now. A backup made before still opens with the old one.

## The configuration file

admin-config-unreadable = cannot read the configuration file { $path }: { $reason }; fix it, or name another with --config FILE
admin-config-not-a-file = { $path } is not a configuration file (a directory, or larger than 64 KiB); name the right file with --config FILE
admin-config-invalid = the configuration file { $path } is wrong at line { $line }: { $what }; fix that line (`puente config show` prints the settings puente knows)
admin-config-none = no configuration file at { $path }; puente uses its defaults, flags and environment variables
admin-config-show-header = The settings in effect: { $path } with puente's defaults filled in
admin-config-not-through-node = `puente config` runs on its own, not through a node
admin-config-bad-log = the configuration file { $path } has log = "{ $log }", which is neither error, warn, info, debug nor a RUST_LOG filter; fix it
