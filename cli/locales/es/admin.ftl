# Usar puente durante años: la frase de contraseña, las copias de seguridad, el servicio.

admin-passphrase-node-running = hay un nodo de puente en marcha en { $dir }; deténgalo (Ctrl-C donde funciona, o `systemctl --user stop puente`), cambie la frase de contraseña y vuelva a iniciarlo
admin-new-passphrase-missing = no se puede pedir la nueva frase de contraseña sin una terminal; indíquela con --new-passphrase-file ARCHIVO (un archivo que solo usted pueda leer)
admin-passphrase-changed = Se cambió la frase de contraseña: ahora solo la nueva abre este almacén. Una copia de seguridad hecha antes todavía se abre con la anterior.
