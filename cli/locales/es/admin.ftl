# Usar puente durante años: la frase de contraseña, las copias de seguridad, el servicio.

admin-passphrase-node-running = hay un nodo de puente en marcha en { $dir }; deténgalo (Ctrl-C donde funciona, o `systemctl --user stop puente`), cambie la frase de contraseña y vuelva a iniciarlo
admin-new-passphrase-missing = no se puede pedir la nueva frase de contraseña sin una terminal; indíquela con --new-passphrase-file ARCHIVO (un archivo que solo usted pueda leer)
admin-passphrase-changed = Se cambió la frase de contraseña: ahora solo la nueva abre este almacén. Una copia de seguridad hecha antes todavía se abre con la anterior.

## Copias de seguridad, y restaurar una como un dispositivo nuevo

admin-backup-exists = { $file } ya existe; elija otro nombre, o agregue --force para reemplazarlo
admin-backup-cannot-write = no se puede escribir la copia de seguridad { $file }: { $reason }; no se escribió nada
admin-backup-wrote = Se escribió una copia de seguridad de este almacén en { $file } ({ $bytes } bytes). Solo se abre con la frase de contraseña que tiene ahora el almacén; guárdela lejos de esta computadora.
# Se comparte con todas las organizaciones aliadas como el motivo de la revocación de la clave anterior.
admin-restore-reason = restaurado desde una copia de seguridad
admin-restored = Se restauró { $file } en { $dir } como un dispositivo nuevo de "{ $name }".
admin-restored-key = Clave de este dispositivo: { $key } (huella { $fingerprint }).
admin-restored-old = La clave del dispositivo de la copia de seguridad, { $old }, está revocada: lo que esa computadora escribió después de la copia no se conserva; vuelva a ingresarlo aquí.
admin-restored-next = Después: inicie `puente run`. Avisa a sus organizaciones aliadas de este dispositivo (a través de la clave anterior, una sola vez) y luego se pone al día con todo lo que ellas tienen.
admin-restored-same-key = Se restauró { $file } en { $dir }. El almacén no formaba parte de ninguna red, así que conserva su clave.
admin-status-handover = RESTAURADO DESDE UNA COPIA DE SEGURIDAD: Las organizaciones aliadas todavía no conocen la clave de este dispositivo. El nodo se la comunica a través de la clave anterior ({ $old }) en cuanto llega a una de ellas (`puente run`); hasta entonces no se conectan con él.

## El archivo de configuración

admin-config-unreadable = no se puede leer el archivo de configuración { $path }: { $reason }; corríjalo o indique otro con --config ARCHIVO
admin-config-not-a-file = { $path } no es un archivo de configuración (es un directorio o mide más de 64 KiB); indique el archivo correcto con --config ARCHIVO
admin-config-invalid = el archivo de configuración { $path } tiene un error en la línea { $line }: { $what }; corrija esa línea (`puente config show` muestra los ajustes que puente conoce)
admin-config-none = no hay archivo de configuración en { $path }; puente usa sus valores predeterminados, las opciones y las variables de entorno
admin-config-show-header = Los ajustes en vigor: { $path } con los valores predeterminados de puente
admin-config-not-through-node = `puente config` se ejecuta por sí solo, no a través de un nodo
admin-config-bad-log = el archivo de configuración { $path } tiene log = "{ $log }", que no es error, warn, info, debug ni un filtro de RUST_LOG; corríjalo

## El servicio

admin-service-user-only = puente solo escribe unidades de su propio usuario: ejecute `puente service install --user`
admin-service-needs-passphrase-file = un servicio no puede escribir la frase de contraseña: guárdela en un archivo que solo usted pueda leer (`chmod 600 ARCHIVO`) y ejecute `puente service install --user --passphrase-file ARCHIVO` (o indique el archivo en el archivo de configuración)
admin-service-no-store = no hay ningún almacén de puente en { $dir }; créelo primero con `puente init` (o únase a una red), o indique el correcto con --data-dir
admin-service-no-binary = no se puede saber dónde está este programa puente: { $reason }; ejecútelo con su ruta completa
admin-service-exists = { $path } ya existe; revíselo y vuelva a ejecutar el comando con --force para escribirlo de nuevo
admin-service-cannot-write = no se puede escribir { $path }: { $reason }
admin-service-no-home = no están definidas ni XDG_CONFIG_HOME ni HOME, así que no hay lugar para una unidad de usuario; defina HOME
admin-service-wrote = Se escribió { $path }
admin-service-next = Después: `systemctl --user daemon-reload` y luego `systemctl --user enable --now puente` para iniciarlo ahora y en cada inicio de sesión; `loginctl enable-linger $USER` lo mantiene en marcha al cerrar la sesión y lo inicia al arrancar. `journalctl --user -u puente` muestra su registro; `puente status` funciona como siempre.

## Métricas

admin-metrics-cannot-listen = no se pueden servir las métricas en { $addr }: { $reason }; elija otro puerto con --metrics-port
admin-metrics-serving = Métricas: { $url }

## Un almacén más antiguo que lo que las organizaciones aliadas tienen de esta computadora (una copia de seguridad restaurada encima)

admin-rolled-back = este almacén es más antiguo que lo que las organizaciones aliadas tienen de esta computadora (¿se restauró desde una copia antigua?), y escribir ahora bifurcaría su historial, así que ya no escribe nada: dé a su organización un dispositivo nuevo (`puente device add` en uno de sus dispositivos, o en este si es el único; luego `puente init --device` y `puente join TOKEN` en un directorio de datos nuevo) y después revoque este dispositivo desde el nuevo con `puente device revoke CLAVE` (`puente whoami` aquí muestra la CLAVE)
admin-status-rolled-back = RESTAURADO DESDE UNA COPIA ANTIGUA: Este almacén es más antiguo que lo que las organizaciones aliadas tienen de esta computadora. Ya no escribe nada, para que su historial no se bifurque, y sigue recibiendo los cambios de las organizaciones aliadas. Dé a su organización un dispositivo nuevo (`puente device add`, luego `puente init --device` y `puente join TOKEN` en un directorio de datos nuevo) y revoque este desde allí (`puente device revoke CLAVE`).
admin-status-erasing = HISTORIAL BORRADO, TODAVÍA SIN TERMINAR AQUÍ: este nodo pasó a una clave de dispositivo nueva y solo conserva el estado actual; termina cuando una aliada haya aceptado la clave nueva y cada aliada haya reenviado sus registros (`puente run`, y luego `puente history status`).
