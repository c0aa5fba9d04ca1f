# Usar puente durante años: la frase de contraseña, las copias de seguridad, el servicio.

admin-passphrase-node-running = hay un nodo de puente en marcha en { $dir }; deténgalo (Ctrl-C donde funciona, o `systemctl --user stop puente`), cambie la frase de contraseña y vuelva a iniciarlo
admin-new-passphrase-missing = no se puede pedir la nueva frase de contraseña sin una terminal; indíquela con --new-passphrase-file ARCHIVO (un archivo que solo usted pueda leer)
admin-passphrase-changed = Se cambió la frase de contraseña: ahora solo la nueva abre este almacén. Una copia de seguridad hecha antes todavía se abre con la anterior.

## El archivo de configuración

admin-config-unreadable = no se puede leer el archivo de configuración { $path }: { $reason }; corríjalo o indique otro con --config ARCHIVO
admin-config-not-a-file = { $path } no es un archivo de configuración (es un directorio o mide más de 64 KiB); indique el archivo correcto con --config ARCHIVO
admin-config-invalid = el archivo de configuración { $path } tiene un error en la línea { $line }: { $what }; corrija esa línea (`puente config show` muestra los ajustes que puente conoce)
admin-config-none = no hay archivo de configuración en { $path }; puente usa sus valores predeterminados, las opciones y las variables de entorno
admin-config-show-header = Los ajustes en vigor: { $path } con los valores predeterminados de puente
admin-config-not-through-node = `puente config` se ejecuta por sí solo, no a través de un nodo
admin-config-bad-log = el archivo de configuración { $path } tiene log = "{ $log }", que no es error, warn, info, debug ni un filtro de RUST_LOG; corríjalo
