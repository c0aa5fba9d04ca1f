# Running puente for years: the passphrase, backups, the service.

admin-passphrase-node-running = a puente node is running on { $dir }; stop it (Ctrl-C where it runs, or `systemctl --user stop puente`), change the passphrase, then start it again
admin-new-passphrase-missing = the new passphrase cannot be asked without a terminal; give it with --new-passphrase-file FILE (a file only you can read)
admin-passphrase-changed = Changed the passphrase: only the new one opens this store now. A backup made before still opens with the old one.
