# commands: lo que dicen los comandos (cli/src/commands): confirmaciones, sugerencias,
# preguntas, avisos y sus errores de una línea. Los nombres de comandos, las opciones y los
# valores que se escriben (`puente init`, --yes, shelter-bed) quedan igual dentro de las frases.

## Ejecutar un comando, directamente o a través de un nodo

cmd-join-node-running = hay un nodo de puente en marcha en { $dir }; deténgalo (Ctrl-C donde se ejecuta), ejecute `puente join` de nuevo y luego inicie el nodo
cmd-run-node-running = ya hay un nodo de puente en marcha en { $dir }; deténgalo (Ctrl-C donde se ejecuta) antes de iniciar otro
cmd-relay-served = `puente relay` sin subcomando ejecuta el servicio de relé; ejecútelo por separado, no a través de un nodo
cmd-run-served = ya hay un nodo en marcha aquí; deténgalo antes de iniciar otro
cmd-shell-served = `puente completions` y `puente man` se ejecutan por separado, no a través de un nodo

## audit

cmd-audit-no-network = este nodo todavía no forma parte de una red, así que nadie ha sido agregado ni revocado; cree una con `puente network create` o únase a una

## bundle export y bundle import

cmd-bundle-exists = { $file } ya existe; elija otro nombre de archivo (puente nunca sobrescribe un paquete)
cmd-bundle-cannot-write = no se puede escribir { $file }: { $reason }; revise la ruta y el espacio libre, y vuelva a intentarlo
cmd-bundle-wrote-for = Se escribió { $file } ({ $bytes } bytes) para "{ $name }". Entrégueselo en una memoria USB; allí ejecutan `puente bundle import FILE`.
cmd-bundle-wrote-all = Se escribió { $file } ({ $bytes } bytes) para todos los miembros. Entrégueselo en una memoria USB; allí ejecutan `puente bundle import FILE`.
cmd-bundle-no-member = ninguna organización miembro se llama `{ $name }`; vea los miembros con `puente status`
cmd-bundle-several-members = varios miembros se llaman `{ $name }`; use el id de la organización que muestra `puente status`
cmd-bundle-cannot-read = no se puede leer { $file }: { $reason }; revise la ruta y vuelva a intentarlo
cmd-bundle-too-large = { $file } ocupa { $bytes } bytes, más de lo que puede ocupar un paquete ({ $max }); no es un paquete de puente
cmd-bundle-imported =
    Se importó { $file }: { $applied ->
        [one] { $applied } cambio nuevo
       *[other] { $applied } cambios nuevos
    }, { $duplicates ->
        [one] { $duplicates } ya estaba aquí
       *[other] { $duplicates } ya estaban aquí
    }, { $ops ->
        [one] { $ops } actualización de membresía
       *[other] { $ops } actualizaciones de membresía
    }{ $waiting ->
        [0] { "" }
        [one] , { $waiting } espera cambios anteriores
       *[other] , { $waiting } esperan cambios anteriores
    }{ $refused ->
        [0] { "" }
        [one] , { $refused } rechazado (no válido)
       *[other] , { $refused } rechazados (no válidos)
    }.

## hold place, release, confirm, decline y list

cmd-hold-own-offer = la oferta { $id } es suya; las reservas son para ofertas de organizaciones aliadas, así que cambie sus periodos con `puente offer update`
cmd-hold-no-dates = indique qué fechas reservar con --from DATE --to DATE (por ejemplo --from +2d --to +5d), o --whole-window para toda la próxima vez que ocurra el periodo
cmd-hold-to-before-from = --to debe ser posterior a --from (el final no se incluye)
# $quantity es como "2 camas"; $status es la situación de la reserva en palabras.
cmd-hold-placed = Se hizo una reserva de { $quantity } en { $handle } ({ $status }).
cmd-hold-placed-lapses = Se hizo una reserva de { $quantity } en { $handle } ({ $status }); caduca el { $when } a menos que { $owner } la confirme.
cmd-hold-overbooked = la reserva está sobrerreservada: reservas anteriores ya ocupan lo que { $owner } tiene en ese periodo, así que espera la respuesta a esas; libérela con `puente hold release { $id }` si encuentra otro lugar
cmd-hold-no-date-given = no se indicó ninguna fecha; no se reservó nada (indique --from y --to, o --whole-window)
cmd-hold-ask-from = ¿Reservar desde qué fecha? (por ejemplo 2026-12-01, 2026-12-01T14:00 o +2d)
cmd-hold-ask-to = ¿Hasta qué fecha (sin incluirla)?
# $what es `released`, `confirmed` o `declined`.
cmd-hold-done =
    { $what ->
        [released] Se liberó la reserva { $id }.
        [confirmed] Se confirmó la reserva { $id }.
       *[declined] Se rechazó la reserva { $id }.
    }
cmd-hold-none = no hay reservas

## init y whoami

cmd-init-device-not-empty = { $dir } ya contiene datos de puente (u otros archivos); un dispositivo nuevo necesita su propio almacén: ejecute `puente init --device` con un directorio vacío (--data-dir DIR)
cmd-init-not-empty = { $dir } ya contiene datos de puente (u otros archivos); elija un directorio vacío con --data-dir
cmd-init-created = Se creó el almacén cifrado de puente para { $name } en { $dir }.
cmd-init-fingerprint-advice = Lea esta huella en voz alta a cada coordinador o coordinadora de las organizaciones aliadas, por teléfono o en persona (no por correo electrónico ni chat), y pídales que le lean la suya. Si un solo dígito es distinto, deténgase: no están hablando de la misma clave.
cmd-init-device-created = Se creó el almacén cifrado de puente para un dispositivo nuevo en { $dir }.
cmd-init-key-device-key = clave del dispositivo
cmd-init-device-next =
    Este dispositivo todavía no pertenece a ninguna organización. Siguiente paso: en una computadora de su organización que ya use puente, ejecute
      puente device add
    y luego ejecute aquí, con el código que muestra:
      puente join TOKEN

## inbox y events

# La columna REQUIERE de `puente inbox` y `puente status`.
cmd-inbox-answer = responder
cmd-inbox-answer-overbooked = responder (sobrerreservada)
# $status es la situación de la reserva: `overbooked` o `declined`.
cmd-inbox-our-hold =
    { $status ->
        [overbooked] nuestra reserva sobrerreservada
        [declined] nuestra reserva rechazada
       *[other] nuestra reserva { $status }
    }
cmd-inbox-renew = renovar o retirar
# La columna CUÁNDO: $what es `expiring` (una oferta) o la línea de una reserva.
cmd-inbox-deadline =
    { $what ->
        [expiring] vence el { $when }
       *[other] caduca el { $when }
    }
cmd-inbox-empty = Nada requiere su atención en este momento.
# Una línea de `puente events` y de `puente run`; $event es el tipo de evento.
cmd-event =
    { $event ->
        [hold-to-answer] La reserva { $hold } de una organización aliada en { $offer } espera su respuesta (puente inbox).
        [our-hold-overbooked] Su reserva { $hold } en { $offer } está sobrerreservada (puente inbox).
        [our-hold-declined] Su reserva { $hold } en { $offer } fue rechazada (puente inbox).
       *[offer-expiring] Su oferta { $offer } vence dentro de 72 horas (puente inbox).
    }
cmd-events-follow-needs-node = --follow necesita un nodo en marcha que vigilar: inicie `puente run` en este directorio de datos y vuelva a intentarlo

## query

cmd-query-to-before-from = --to debe ser posterior a --from (o a ahora cuando no se indica --from); el final no se incluye
cmd-query-none = ninguna oferta coincide
cmd-query-no-owner = --owner: ninguna organización coincide con `{ $owner }`; indique el id de una organización (vea `puente whoami`) o su nombre
cmd-query-several-owners = --owner: `{ $owner }` coincide con varias organizaciones; escriba más caracteres del id

## network create, invite, join, status, peer, device

cmd-network-create-device = este almacén se creó con `puente init --device` para unirse a una organización existente: ejecute `puente join TOKEN` con una invitación de dispositivo de uno de sus dispositivos; para fundar una red, cree el almacén de una organización con `puente init --org NAME` en otro directorio de datos
cmd-network-created =
    Se creó la red "{ $name }" ({ $network }).
    Su organización es la administradora. Invite a organizaciones aliadas con:
      puente invite create --org "PARTNER NAME"
cmd-invite-no-node = no hay ningún nodo en marcha aquí, así que la invitación no puede indicar cómo llegar a su nodo: inicie primero `puente run`, o indique --address MULTIADDR
cmd-invite-no-address = el nodo no escucha en ninguna dirección a la que una organización aliada pueda llamar; indique --address MULTIADDR con la dirección de esta máquina
cmd-invite-auto-confirm = Se confirmará en cuanto se unan (--yes): sin comparar la frase.
cmd-invite-compare-phrase =
    Cuando se unan, ambas partes verán una frase de seguridad. Compárenla por teléfono y luego ejecute:
      puente invite confirm { $id }
# $role es el rol que se escribió (`member`, `admin`); $until es una hora local y cuánto falta.
cmd-invite-created =
    Invitación { $id } para "{ $org }" (rol { $role }), válida hasta el { $until }.
    Envíeles este código (sirve una sola vez); allí ejecutan `puente join TOKEN`.
cmd-device-add-not-joined = este dispositivo todavía no se unió a su organización, así que no puede agregar otros: ejecute `puente device add` en un dispositivo que ya se haya unido, o únase primero con `puente join TOKEN`
cmd-device-add-no-network = los dispositivos se agregan a través de una red, y esta organización todavía no está en ninguna: funde una con `puente network create --name NAME` (o únase a una con `puente join TOKEN`) y luego agregue el dispositivo
cmd-device-invite-auto-confirm = Se confirmará en cuanto el dispositivo se una (--yes): sin comparar la frase.
cmd-device-invite-compare-phrase =
    Cuando se una, ambas pantallas mostrarán una frase de seguridad. Revise que sean iguales y luego ejecute:
      puente invite confirm { $id }
cmd-device-invite-not-admin = Su organización no es administradora: el dispositivo nuevo recibe la clave de la red del nodo de una organización administradora cuando se conecta a él por primera vez.
cmd-device-invite-created =
    Invitación de dispositivo { $id } para un dispositivo nuevo de "{ $org }", válida hasta el { $until }.
    En la computadora nueva ejecute `puente init --device` y luego `puente join TOKEN` con este código (sirve una sola vez).
# $node es `yes` cuando un nodo en marcha atiende el comando.
cmd-invite-confirmed-device =
    Confirmado: el dispositivo nuevo ahora es un dispositivo de "{ $org }".
    { $node ->
        [yes] El nodo le está enviando ahora la membresía de la red; después podrá leer y escribir las ofertas de esta organización.
       *[no] Inicie `puente run`: el dispositivo recibe la membresía de la red cuando vuelve a ejecutar `puente join`.
    }
cmd-invite-confirmed =
    Confirmado: "{ $org }" ahora forma parte de la red con el rol { $role }.
    { $node ->
        [yes] El nodo les está enviando ahora la membresía y las claves de la red.
       *[no] Inicie `puente run`: reciben las claves de la red cuando vuelven a ejecutar `puente join`.
    }
cmd-invite-cancelled = Se canceló la invitación { $id } para "{ $org }"; su código ya no sirve.
cmd-join-connecting = Conectando con quien le invitó en { $addresses } ...
cmd-join-phrase-device =
    Frase de seguridad: { $phrase }
    `puente invite list` en el dispositivo que hizo la invitación también muestra cuatro palabras. Confirme allí (`puente invite confirm ID`) solo si son las mismas.
    Esperando la confirmación ...
cmd-join-phrase =
    Frase de seguridad: { $phrase }
    Lea estas cuatro palabras a quien le invitó. Solo confirmarán si ven las mismas palabras.
    Esperando su confirmación ...
cmd-join-joined =
    Se unió a la red "{ $name }" ({ $network }).
    Inicie su nodo con `puente run` para intercambiar ofertas con sus organizaciones aliadas.
cmd-join-device-no-key = Su organización no es administradora, así que este dispositivo todavía no tiene la clave de la red: el nodo de una organización administradora la comparte cuando su nodo se conecta a él. Hasta entonces no puede leer ni escribir ofertas.
cmd-join-joined-device =
    Se unió a la red "{ $name }" ({ $network }) como dispositivo de "{ $org }".
    Inicie su nodo con `puente run`: trae las ofertas de su organización, y después podrá actualizarlas desde aquí.
cmd-status-needs-you = Requiere su atención (`puente inbox`):
cmd-device-list-not-joined = este dispositivo todavía no se unió a su organización: ejecute `puente device add` en uno de sus dispositivos y luego `puente join TOKEN` aquí
cmd-peer-no-device = ningún dispositivo de una organización aliada tiene una clave que empiece con `{ $key }`; vea `puente peer list`
cmd-peer-several-devices = `{ $key }` coincide con varios dispositivos de organizaciones aliadas; escriba más caracteres de la clave
# $added es `yes` para una dirección que este nodo no conocía.
cmd-peer-address =
    { $added ->
        [yes] Se registró
       *[no] Ya se conocía
    } { $address } para el dispositivo { $key }{ $node ->
        [yes] ; el nodo se conecta a ella ahora
       *[no] ; el nodo se conectará a ella cuando esté en marcha
    }.

## offer add, update, withdraw, confirm, list y show

# $sentence es la frase de revocación de `puente status`.
cmd-offer-add-revoked = aviso: { $sentence } Esta oferta se queda solo en esta computadora.
# $kind es el tipo de oferta tal como se escribe (`host-home`); $when una hora local y cuánto falta.
cmd-offer-published = Se publicó la oferta { $kind } { $handle }; vence el { $when } a menos que usted la confirme.
cmd-offer-published-unknown = Se publicó la oferta.
cmd-offer-clear-contradicts = { $flag } y --clear para el mismo campo se contradicen; indique solo uno de los dos
cmd-offer-update-nothing = no hay nada que cambiar: indique al menos una opción, como --label, --add-window o --status (vea `puente offer update --help`)
cmd-offer-update-withdrawn = la oferta { $id } fue retirada y no puede cambiar; publique una oferta nueva con `puente offer add`
cmd-offer-updated = Se actualizó la oferta { $id }.
cmd-offer-withdraw-not-owner = la oferta { $id } pertenece a { $owner }; solo quien la publicó puede retirarla
cmd-offer-already-withdrawn = La oferta { $id } ya estaba retirada; no cambió nada.
cmd-offer-withdraw-no-terminal = retirar la oferta { $id } no se puede deshacer y no hay una terminal donde confirmarlo; agregue --yes
cmd-offer-not-withdrawn = No se retiró; no cambió nada.
cmd-offer-withdrawn = Se retiró la oferta { $id }. Las organizaciones aliadas ya no la ven; para volver a ofrecer, publique una oferta nueva.
cmd-offer-confirm-withdrawn = la oferta { $id } fue retirada y no se puede confirmar; publique una oferta nueva
cmd-offer-confirmed = Se confirmó la oferta { $id }.
cmd-offer-confirmed-until = Se confirmó la oferta { $id }; ahora vence el { $when }.
cmd-offer-list-none = no hay ofertas; publique una con `puente offer add` o importe un CSV con `puente import`
cmd-offer-no-windows = sin periodos (una oferta permanente)
cmd-offer-no-holds = no hay reservas en esta oferta
cmd-offer-window-weekly = semanal
# $state es `open`, `ended` o `cancelled`.
cmd-offer-window-state =
    { $state ->
        [open] abierto
        [ended] terminado
       *[cancelled] cancelado
    }
cmd-offer-withdraw-ask = ¿Retirar la oferta { $kind } { $handle } ({ $id })? Las organizaciones aliadas dejarán de verla y esto no se puede deshacer. [s/N]
# Las respuestas que significan sí a la pregunta anterior, separadas por comas.
cmd-offer-withdraw-yes = s, si, sí
cmd-offer-no-window = la oferta { $id } no tiene ningún periodo que coincida con `{ $window }`; vea sus periodos con `puente offer show { $id }`
cmd-offer-several-windows = `{ $window }` coincide con varios periodos de esta oferta; escriba más caracteres del id
cmd-offer-zone-damaged = { $reason }; la zona horaria del almacén está dañada
# Las claves de `puente offer show`.
cmd-offer-key-offer = oferta
cmd-offer-key-owner = oferente
cmd-offer-key-state = estado
cmd-offer-key-kind = tipo
cmd-offer-key-handle = alias
cmd-offer-key-subject = sujeto
cmd-offer-key-zone = zona
cmd-offer-key-languages = idiomas
cmd-offer-key-accepts = acepta
cmd-offer-key-affirming = afirma
cmd-offer-key-accessibility = accesibilidad
cmd-offer-key-household = hogar
cmd-offer-key-capabilities = capacidades
cmd-offer-key-unit = unidad
cmd-offer-key-lead-time = antelación
cmd-offer-key-max-stay = estadía máxima
cmd-offer-key-vetting = verificación
cmd-offer-key-status = situación
cmd-offer-key-bond-band = rango de fianza
cmd-offer-key-post-within = paga en
cmd-offer-key-label = etiqueta
cmd-offer-key-created = creada
cmd-offer-key-confirmed = confirmada
cmd-offer-key-expires = vence

## relay: el servicio de relé, y relay ticket, add, remove, list

cmd-relay-no-dir = no se sabe dónde guardar los datos del relé: indique --relay-dir DIR o defina PUENTE_RELAY_DIR
cmd-relay-mailbox-limits = --mailbox-mib y --mailbox-days deben ser al menos 1
cmd-relay-cannot-open = no se pueden abrir los datos del relé en { $dir }: { $reason }
cmd-relay-cannot-admit = no se puede registrar --admit: { $reason }
cmd-relay-no-runtime = no se puede iniciar el entorno de ejecución del relé: { $reason }
# $signal es `Ctrl-C` o `SIGTERM`.
cmd-cannot-watch-signal = no se puede vigilar { $signal }: { $reason }
cmd-relay-port-in-use = no se puede escuchar: el puerto ya está en uso (¿otro relé?); indique --listen con otro puerto
cmd-relay-cannot-start = el relé no pudo iniciarse: { $reason }
cmd-relay-running = El relé de puente { $id } está en marcha en { $dir }.
cmd-relay-admins-add = Una organización administradora de cada red a la que sirve lo agrega con:
cmd-relay-serves-none = Todavía no sirve a ninguna red: inícielo con --admit TICKET (una organización administradora obtiene el ticket con `puente relay ticket`).
cmd-relay-serves =
    { $count ->
        [one] Sirve a { $count } red. Presione Ctrl-C (o envíe SIGTERM) para detenerlo.
       *[other] Sirve a { $count } redes. Presione Ctrl-C (o envíe SIGTERM) para detenerlo.
    }
cmd-relay-unclean-stop = el relé no se detuvo correctamente: { $reason }
cmd-relay-stopped = Se detuvo el relé; su buzón quedó guardado.
cmd-relay-ticket-no-network = esta organización todavía no está en ninguna red; funde una con `puente network create --name NAME` o únase primero a una
cmd-relay-ticket-not-admin = solo una organización administradora de la red puede crear un ticket de relé; pídaselo a una (vea `puente status`)
cmd-relay-ticket-note =
    Envíe esta línea a quien opere el relé; lo inicia con `puente relay --admit LINE`.
    No contiene ningún secreto ni ningún nombre: solo una etiqueta opaca de la red y las claves de los dispositivos de las organizaciones administradoras.
cmd-relay-add-other-relay = --address { $address } corresponde a otro relé; agregue cada relé con su propio `puente relay add`
cmd-relay-add-own-key = esa es la clave de este dispositivo, no la de un relé; indique la dirección que mostró `puente relay`
cmd-relay-added =
    La red ahora usa el relé { $id } en { $addresses }.
    El nodo de cada miembro lo conoce al sincronizarse{ $node ->
        [yes] ; este nodo se conecta ahora
       *[no] ; este nodo se conectará cuando esté en marcha
    }.
cmd-relay-remove-none = la red no usa ningún relé cuyo id empiece con `{ $id }`; vea `puente relay list`
cmd-relay-remove-several = `{ $id }` coincide con varios relés; escriba más caracteres del id
cmd-relay-removed = La red ya no usa el relé { $id }; los nodos dejan sus reservas de conexión en él al sincronizarse.
cmd-relay-list-none = La red no usa ningún relé. Las organizaciones aliadas cuyos nodos no pueden conectarse entre sí (routers domésticos) necesitan uno: vea "Connecting partners over the internet" en la guía.

## run

cmd-run-within-node = no se puede iniciar un nodo desde dentro de un nodo
cmd-run-unjoined-device = un dispositivo que todavía no se unió a su organización
cmd-run-no-runtime = no se puede iniciar el entorno de ejecución del nodo: { $reason }
cmd-run-stopped = Se detuvo el nodo; todo quedó guardado.
# $name es el nombre de la organización, o cmd-run-unjoined-device.
cmd-run-running = El nodo de puente de { $name } ({ $org }) está en marcha en { $dir }.
cmd-run-control-socket =
    Socket de control { $socket }: los demás comandos de puente en este directorio de datos ahora pasan por este nodo.
    Presione Ctrl-C (o envíe SIGTERM) para detenerlo.

## completions y man

cmd-man-cannot-write-page = no se pudo escribir la página del manual: { $reason }
cmd-man-cannot-write-pages = no se pueden escribir las páginas del manual en { $dir }: { $reason }
# $bin es el nombre del programa, `puente`.
cmd-man-wrote = Se escribieron { $count } páginas del manual en { $dir }: { $bin }.1 y una por comando (`man { $bin }-offer-add`).

## peer revoke, device revoke, peer role y peer revocations

# $min es la menor cantidad de caracteres de una clave de dispositivo que se acepta.
cmd-revoke-no-match = ninguna organización ni dispositivo coincide con `{ $text }`; indique el nombre o el id de una organización (vea `puente status`) o al menos los primeros { $min } caracteres de la clave de un dispositivo (vea `puente peer list`)
cmd-revoke-no-device = ninguna clave de dispositivo empieza con `{ $text }`; indique al menos los primeros { $min } caracteres de una clave de `puente peer list` o `puente whoami`
cmd-revoke-several = `{ $text }` coincide con varias organizaciones o dispositivos; indique más caracteres de la clave del dispositivo, o el id completo de la organización
# $why dice qué tiene de malo el motivo, como "looks like it contains a phone number".
cmd-role-not-device = un rol pertenece a una organización: indique su nombre o id (vea `puente status`), no la clave de un dispositivo
cmd-role-last-admin = dar a "{ $name }" el rol member dejaría la red sin ninguna organización administradora: nadie podría invitar ni revocar a nadie, ni reemplazar la clave de cifrado; dé primero el rol admin a otra organización, o vuelva a ejecutar el comando con --yes
# $role es `admin` o `member`.
cmd-role-done =
    { $role ->
        [admin] "{ $name }" ahora tiene el rol admin: ya puede invitar y revocar organizaciones y cambiar roles.
       *[member] "{ $name }" ahora tiene el rol member: publica sus propias ofertas y reservas.
    }
cmd-role-no-admin-warning = AVISO: la red ya no tiene ninguna organización administradora.
# $node es `yes` cuando un nodo en marcha atiende el comando.
cmd-role-sending =
    { $node ->
        [yes] Su nodo está enviando ahora el cambio a todas las organizaciones aliadas con las que está conectado.
       *[no] Su nodo no está en marcha: las organizaciones aliadas conocerán el cambio cuando inicie `puente run`.
    }
# $target nombra lo que se revoca: una organización o un dispositivo.
cmd-revoke-already = ya se había revocado { $target }; vea `puente peer revocations`
cmd-revoke-org-not-admin = solo una organización administradora puede revocar una organización; pídaselo a una organización administradora de su red (vea `puente status`)
cmd-revoke-device-not-allowed = solo un dispositivo de la misma organización o una organización administradora puede revocar un dispositivo; pídaselo a una organización administradora de su red (vea `puente status`)
cmd-revoke-last-admin = revocar { $target } dejaría la red sin ninguna organización administradora: nadie podría invitar ni revocar a nadie, ni reemplazar la clave de cifrado; si de verdad es lo que quiere, vuelva a ejecutar el comando con --yes
cmd-revoke-no-network = este nodo no forma parte de una red
cmd-revoke-done =
    Se revocó { $target }.{ $has_reason ->
        [yes] { " " }Motivo: { $reason }.
       *[no] { "" }
    }
    Revocación { $id }; lo que se escriba a partir de ahora se cifra con la época { $epoch }.
cmd-revoke-no-admin-warning = AVISO: la red ya no tiene ninguna organización administradora: nadie puede invitar ni revocar a nadie, ni reemplazar la clave de cifrado.
cmd-revoke-self-warning = AVISO: usted revocó la clave de esta misma computadora: queda desconectada de la red como cualquier parte revocada.
cmd-revoke-sending =
    { $node ->
        [yes] Su nodo está enviando ahora la revocación a todas las organizaciones aliadas con las que está conectado, y ya cortó las claves revocadas.
       *[no] Su nodo no está en marcha: inicie `puente run` ahora. Hasta que las organizaciones aliadas reciban la revocación de él, siguen confiando en la clave revocada.
    }
cmd-revoke-does-head = Lo que hace la revocación:
cmd-revoke-does-refused = Cada nodo que recibió la revocación rechaza de inmediato las claves revocadas: ninguna conexión, nada se les envía, no se acepta ninguno de sus cambios nuevos.
cmd-revoke-does-new-key = Todo lo que se escriba a partir de ahora se cifra con una clave nueva que la parte revocada nunca recibe.
cmd-revoke-does-spreads = La revocación llega a cada organización aliada que alcanza su nodo, y volver a enviar permisos antiguos no puede deshacerla.
cmd-revoke-does-not-rotated = Esta computadora no es de una organización administradora, así que la clave todavía no se reemplazó (sigue la época { $epoch }): el nodo de una organización administradora la reemplaza en cuanto recibe la revocación. Hasta entonces, lo que se escriba puede leerse con la clave que tiene la parte revocada.
cmd-revoke-cannot-head = Lo que la revocación no puede hacer:
cmd-revoke-cannot-take-back = No puede recuperar lo que la parte revocada ya sincronizó: el informe de exposición de abajo enumera lo que pudo leer.
cmd-revoke-cannot-offline = Las organizaciones aliadas que están sin conexión siguen confiando en la clave revocada hasta que les llegue la revocación: revise `puente peer revocations` hasta que todas la hayan confirmado.
cmd-revoke-cannot-leaks = No puede impedir que una organización aliada que todavía tiene su confianza filtre información. La defensa es compartir menos: lugares aproximados, seudónimos y vencimientos cortos.
cmd-revocations-no-network = Este nodo todavía no forma parte de una red; no hay revocaciones.
cmd-revocations-none = No hay revocaciones en esta red.

## import y export

# Una fila del informe de la importación; $action es `create` o `unchanged`.
cmd-import-row =
    { $action ->
        [create] nueva: línea { $line }, { $handle }
        [unchanged] sin cambios: línea { $line }, { $handle }
       *[other] { $action }: línea { $line }, { $handle }
    }
cmd-import-row-update = se actualiza: línea { $line }, { $handle }: { $fields }
cmd-import-row-rejected = rechazada: línea { $line }, { $column }: { $reason }
cmd-import-row-rejected-line = rechazada: línea { $line }: { $reason }
cmd-import-withdraw-row = se retira { $handle }: ninguna fila la menciona
# Lo que hace una importación; las filas rechazadas y retiradas no se mencionan si no hay.
cmd-import-summary =
    { $created ->
        [one] { $created } nueva
       *[other] { $created } nuevas
    }, { $updated ->
        [one] { $updated } actualizada
       *[other] { $updated } actualizadas
    }, { $unchanged } sin cambios{ $rejected ->
        [0] { "" }
        [one] , { $rejected } rechazada
       *[other] , { $rejected } rechazadas
    }{ $withdrawn ->
        [0] { "" }
        [one] , { $withdrawn } retirada
       *[other] , { $withdrawn } retiradas
    }
cmd-import-dry-run = Simulación: { $summary }; no se escribió nada.
cmd-import-imported =
    { $count ->
        [one] Se importó { $count } oferta de { $file }: { $summary }.
       *[other] Se importaron { $count } ofertas de { $file }: { $summary }.
    }
cmd-import-refused-dry-run =
    { $count ->
        [one] se rechazó { $count } de { $total } filas, así que una importación no escribiría nada (simulación: no se escribió nada); corríjala, o agregue --allow-partial para importar las { $valid } filas válidas
       *[other] se rechazaron { $count } de { $total } filas, así que una importación no escribiría nada (simulación: no se escribió nada); corríjalas, o agregue --allow-partial para importar las { $valid } filas válidas
    }
cmd-import-refused =
    { $count ->
        [one] se rechazó { $count } de { $total } filas y no se importó nada; corríjala, o agregue --allow-partial para importar las { $valid } filas válidas
       *[other] se rechazaron { $count } de { $total } filas y no se importó nada; corríjalas, o agregue --allow-partial para importar las { $valid } filas válidas
    }
cmd-import-none-valid = ninguna de las { $total } filas es válida; no se importó nada
cmd-import-cannot-read = no se puede leer { $file }: { $reason }
cmd-import-not-a-file = { $file } no es un archivo; indique la ruta de un archivo CSV
cmd-import-too-large = { $file } ocupa { $bytes } bytes; importe como máximo 16 MiB por vez dividiéndolo en archivos más pequeños
# La barra de progreso: $bar es la barra, $progress lo hecho y el total.
cmd-import-progress = importando { $bar } { $progress } ofertas
cmd-export-table = export escribe archivos: use --format json, csv o hsds (table es para leer en pantalla)
cmd-export-hsds-partners = una exportación HSDS publica solo los programas de su propia organización; quite --partners
cmd-export-no-profile = este dispositivo todavía no tiene perfil de organización, así que no tiene nada propio que publicar; únase primero a su organización
# $format es `csv`, `hsds` o `json`; $partners es `yes` con --partners.
cmd-export-wrote =
    Se escribió { $format ->
        [csv] una exportación CSV
        [hsds] una exportación HSDS 3.1 (solo programas públicos)
       *[json] una exportación JSON
    } de { $count } ofertas ({ $partners ->
        [yes] las suyas y las de sus organizaciones aliadas
       *[no] solo las suyas
    }) en { $file }. Es texto sin cifrar: guárdelo en un lugar seguro y bórrelo cuando termine.
cmd-export-cannot-write = no se puede escribir { $file }: { $reason }
cmd-export-cannot-restrict = no se pueden restringir los permisos de { $file }: { $reason }

cmd-history-not-admin = solo una organización administradora puede borrar el historial de la red
cmd-history-future = --before { $date } está en el futuro; indique una fecha hasta hoy, o `now` para borrar todo hasta este momento
cmd-history-erased = Se borró el historial anterior a { $date } en este nodo: se destruyeron todas las claves de los periodos que empezaron antes (el primer periodo que se conserva es la época { $epoch }), y los registros de cada organización se conservan tal como están ahora, sin sus versiones anteriores.
cmd-history-new-key = Este dispositivo pasó a una clave nueva, { $key } (huella { $fingerprint }); su clave anterior queda revocada, porque podía abrir lo que se le había sellado.
cmd-history-next = { $node ->
    [yes] Su nodo en marcha envía el borrado a las organizaciones aliadas ahora. El nodo de cada aliada lo aplica al recibirlo; `puente history status` muestra quién lo ha aplicado.
   *[no] Inicie `puente run` para enviar el borrado a las organizaciones aliadas. El nodo de cada aliada lo aplica al recibirlo; `puente history status` muestra quién lo ha aplicado.
}
cmd-history-cannot-head = Lo que borrar el historial no puede hacer:
cmd-history-cannot-not-yet = El nodo de una aliada que todavía no lo aplicó conserva las claves y versiones anteriores: revise `puente history status` hasta que todas lo hayan aplicado.
cmd-history-cannot-copies = Una aliada que guardó copias (exportaciones, impresiones, archivos, capturas de pantalla) las conserva.
cmd-history-cannot-backups = Una copia de seguridad hecha antes del borrado todavía se abre con la frase de contraseña con la que se hizo: elimine esas copias.
cmd-history-cannot-after = Los periodos de clave que empezaron después de la fecha se conservan: las copias de los cambios hechos desde entonces todavía se abren con ellas.
cmd-history-cannot-disk = Un disco puede conservar bloques borrados durante un tiempo: use cifrado de disco completo en cada computadora que ejecute puente.
cmd-history-none = No se ha borrado historial en esta red.
cmd-history-row = Borrado { $id } por { $by }, { $when }: se destruyeron todas las claves anteriores a la época { $epoch }.
cmd-history-applied-by = Aplicado por { $count } dispositivo(s):
cmd-history-not-yet = Todavía no aplicado por { $count } dispositivo(s):
cmd-history-waiting-rebase = Este nodo conserva su propia copia de los registros de estas organizaciones hasta que lleguen sus registros reenviados: { $orgs }.
cmd-history-handover = Este nodo todavía conserva su clave de dispositivo anterior { $key } hasta que una aliada acepte la nueva; después de eso el borrado en este nodo está completo.
