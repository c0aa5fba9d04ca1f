# errors
#
# Por qué algo falló, una línea cada vez, diciendo qué hacer a continuación; también las
# preguntas por la frase de contraseña y las pocas notas que escribe el cliente del socket de
# control. Cada id de este archivo empieza con `err-`.
#
# Nunca se traducen, y quedan tal cual dentro de la frase: los comandos (`puente init`), las
# opciones y los valores que se escriben (--data-dir, --yes, table, json), las variables de
# entorno, los nombres de columnas CSV, los ids y las rutas. Se trata a la persona de "usted".

## Cualquier comando

err-nothing-said = algo salió mal; vuelva a ejecutar el comando con RUST_LOG=debug para ver los detalles
err-exit-status = el comando falló (estado de salida { $code })
err-internal = puente tuvo un error interno; no se escribió nada más, por favor repórtelo
err-internal-at = puente tuvo un error interno en { $file }:{ $line }; no se escribió nada más, por favor repórtelo

## Un motivo breve para un error de entrada/salida, dentro de otra frase

err-io-not-found = no existe el archivo o directorio
err-io-permission-denied = permiso denegado
err-io-already-exists = ya existe
err-io-is-a-directory = es un directorio
err-io-storage-full = el disco está lleno

## El almacén en el directorio de datos

err-store-not-found = no hay datos de puente en { $dir }; primero ejecute `puente init --org NAME`, o indique con --data-dir dónde están sus datos
err-store-already-exists = { $dir } ya contiene un almacén de puente; elija otro directorio con --data-dir
err-store-wrong-passphrase = la frase de contraseña del almacén en { $dir } no es correcta (o su encabezado fue alterado); revise PUENTE_PASSPHRASE o --passphrase-file e intente de nuevo
err-store-locked = ya hay un nodo de puente en marcha en { $dir } (u otro comando de puente lo está usando); detenga ese nodo o espere a que el comando termine, y luego intente de nuevo
err-store-io = no se puede acceder a { $path }: { $reason }; revise el directorio de datos e intente de nuevo
err-store-loose-permissions = otros usuarios pueden acceder a { $path } (permisos { $mode }); corríjalo con `{ $fix }`
err-store-weak-kdf = el encabezado del almacén pide una derivación de clave más débil (m = { $m_kib } KiB, t = { $t }, p = { $p }) que el mínimo (m = 65536 KiB, t = 3, p = 4); se rechaza
err-store-bad-header = el encabezado del almacén { $path } está dañado ({ $reason }); restáurelo desde una copia de seguridad
err-store-unsupported-version = esta versión de puente no admite la versión { $version } del formato del almacén; actualice puente
err-store-mismatched = el encabezado del almacén no corresponde al archivo de datos en { $dir }; restaure ambos desde la misma copia de seguridad
err-store-corrupt = el valor guardado `{ $key }` de la tabla `{ $table }` está dañado; restáurelo desde una copia de seguridad o vuelva a sincronizar con sus organizaciones aliadas
err-store-damaged = el archivo de datos { $path } está dañado ({ $reason }); restáurelo desde una copia de seguridad o vuelva a sincronizar con sus organizaciones aliadas
err-store-disk-full = el disco donde está { $path } está lleno; libere espacio e intente de nuevo (no se escribió nada)

## Ofertas, reservas y periodos nombrados por su id

err-not-found-offer = ninguna oferta coincide con `{ $text }`; vea las ofertas con `puente offer list` o `puente query`
err-not-found-hold = ninguna reserva coincide con `{ $text }`; vea las reservas con `puente hold list`
err-not-found-window = ningún periodo coincide con `{ $text }`; vea los periodos de la oferta con `puente offer show OFFER_ID`
err-not-found-record = ningún registro coincide con `{ $text }`; revise el id e intente de nuevo
err-ambiguous = `{ $text }` coincide con { $count } { $what ->
        [offer] { $count ->
                [one] oferta
               *[other] ofertas
            }
        [hold] { $count ->
                [one] reserva
               *[other] reservas
            }
        [window] { $count ->
                [one] periodo
               *[other] periodos
            }
       *[other] { $count ->
                [one] registro
               *[other] registros
            }
    }; escriba más caracteres del id
err-damaged = el registro guardado { $what ->
        [identity] de identidad
        [node] del nodo
        [epoch-key] de claves de la red
        [members] de miembros
        [membership] del registro de miembros
        [snapshot] de la instantánea
        [log] del historial
        [peer-vector] del estado de sincronización con los pares
       *[other] «{ $what }»
    } está dañado; restaure el directorio de datos desde una copia de seguridad
err-poisoned = una escritura anterior falló; no se acepta nada más hasta que reinicie puente

## Cambios en ofertas y reservas

err-write-device-pending = este dispositivo todavía no se ha unido a su organización: en una computadora de su organización ejecute `puente device add`, y luego aquí `puente join TOKEN`
err-write-no-epoch-key = este dispositivo todavía no ha recibido la clave de la red; mantenga `puente run` en ejecución hasta que el nodo de una organización administradora se la comparta, y luego intente de nuevo
err-write-not-own-offer = la oferta { $offer } pertenece a otra organización; solo la organización que la publicó puede { $action ->
        [withdraw] retirarla
        [confirm] confirmarla
       *[change] modificarla
    } (usted puede hacer una reserva)
err-write-own-offer = esta oferta es de su organización; modifique sus periodos en lugar de reservarla
err-write-offer-withdrawn = esa oferta fue retirada por la organización que la publicó
err-write-window-cancelled = ese periodo fue cancelado por la organización que lo publicó
err-write-no-occurrence-left = a ese periodo ya no le quedan fechas; elija otro periodo
err-write-outside-occurrence = las fechas --from/--to de la reserva deben quedar dentro de una misma repetición del periodo
err-write-not-requester = solo la organización que hizo una reserva puede liberarla; como dueña de la oferta, usted puede rechazarla
err-write-not-offer-owner = solo la organización dueña de la oferta puede confirmar o rechazar una reserva sobre ella

## La red y el lugar de este nodo en ella

err-not-in-network = este nodo todavía no forma parte de una red; primero cree una con `puente network create --name NAME` o únase a una con `puente join TOKEN`
err-network-already-in = este nodo ya forma parte de la red { $network }; un nodo pertenece a una sola red
err-network-device-store = este almacén se creó para un dispositivo nuevo de una organización existente (`puente init --device`): se une con `puente join TOKEN` y no puede fundar una red
err-network-holds-partners-records = este nodo ya guarda registros de organizaciones aliadas: ya forma parte de una red
err-network-name-length = el nombre de una red debe tener entre 1 y { $max } caracteres
err-network-not-admin-revoke = solo una organización administradora puede revocar una organización; pídaselo a una organización administradora de su red
err-network-not-admin = solo una organización administradora puede hacer esto; pídaselo a una organización administradora de su red
err-network-no-longer-member = este dispositivo ya no es miembro de su red
err-network-already-member = el dispositivo { $device } ya es miembro
err-network-device-known = la red ya conoce el dispositivo { $device }
err-network-not-allowed-to-add-device = solo un dispositivo de esa organización o una organización administradora puede agregarle un dispositivo
err-network-org-not-accepted = el registro de miembros no aceptó la nueva organización; revise `puente status`
err-network-device-not-accepted = el registro de miembros no aceptó el nuevo dispositivo; revise `puente status`
err-network-revocation-not-accepted = el registro de miembros no aceptó la revocación; revise `puente audit log`
err-network-empty-log = la organización que le invitó envió un registro de miembros vacío
err-network-not-listed = el registro de miembros de la organización que le invitó no incluye este dispositivo; pida una nueva invitación
err-network-no-epoch-yet = la red de la organización que le invitó todavía no tiene clave
err-network-device-invitation-for-org-store = esta invitación agrega un dispositivo a una organización existente: úsela en un almacén nuevo creado con `puente init --device`
err-network-org-invitation-for-device-store = este almacén se creó con `puente init --device`: solo puede unirse como dispositivo de una organización existente (`puente device add` en el nodo de esa organización)
err-network-key-not-shared = la organización que le invitó no compartió la clave de la red con este dispositivo; pídale que lo intente de nuevo
err-network-expiry-not-in-future = --expires-in debe estar en el futuro
err-network-org-name-length = --org debe tener entre 1 y { $max } caracteres
err-network-org-name-taken = ya hay una organización miembro llamada `{ $name }`; elija otro nombre
err-network-invitation-not-found = { $matches ->
        [0] ninguna invitación coincide con `{ $text }`; vea `puente invite list`
       *[other] `{ $text }` coincide con { $matches } invitaciones; escriba más caracteres o vea `puente invite list`
    }
err-network-invitation-not-waiting = la invitación { $invitation } no está esperando confirmación (nadie se ha unido con ella todavía, o ya terminó); vea `puente invite list`
err-network-invitation-expired = la invitación { $invitation } venció; cree una nueva
err-network-invitation-not-cancellable = solo se puede cancelar una invitación con la que todavía no se ha admitido a nadie
err-network-org-already-revoked = esa organización ya está revocada
err-network-no-such-org = ninguna organización miembro tiene ese id; vea `puente status`
err-network-device-already-revoked = ese dispositivo ya está revocado
err-network-no-such-device = ningún dispositivo miembro tiene esa clave; vea `puente peer list`
err-network-not-allowed-to-revoke-device = solo un dispositivo de la misma organización o una organización administradora puede revocar un dispositivo
err-network-bad-address = `{ $text }` no es una multidirección como /ip4/192.0.2.10/tcp/4737

## Paquetes

err-bundle-no-network-to-export = este nodo todavía no forma parte de una red; cree una o únase a una antes de exportar un paquete
err-bundle-no-network-to-import = este nodo todavía no forma parte de una red; cree una o únase a una antes de importar un paquete
err-bundle-not-a-member = la organización { $org } no es miembro de esta red; vea los miembros con `puente status`
err-bundle-no-recipients = el registro de miembros no incluye ningún dispositivo para el cual cifrar el paquete
err-bundle-unusable-agreement-key = el dispositivo { $device } tiene una clave de acuerdo inutilizable; no se puede cifrar el paquete para él
err-bundle-too-many-devices = la red tiene más dispositivos de los que un paquete puede nombrar
err-bundle-export-too-large = el paquete tendría { $len } bytes, más que el límite de { $max } bytes; exporte con `--for` para una sola organización, o sincronice primero una parte
err-bundle-too-many-items = el paquete tendría demasiados elementos
err-bundle-item-too-large = un elemento es demasiado grande para un paquete
err-bundle-import-too-large = el paquete tiene { $len } bytes, más que el límite de { $max } bytes; no se importó nada
err-bundle-not-a-bundle = este archivo no es un paquete de puente; no se importó nada
err-bundle-wrong-network = este paquete pertenece a la red { $bundle }, pero este nodo forma parte de la red { $ours }; no se importó nada
err-bundle-not-addressed = este paquete no está dirigido a este dispositivo: se exportó para otra organización, o antes de que este dispositivo se uniera; pida uno exportado con `--for` para su organización. No se importó nada
err-bundle-altered = el paquete está dañado o fue alterado (no se puede descifrar); no se importó nada
err-bundle-truncated = el paquete está incompleto (el archivo quedó cortado; cópielo de nuevo); no se importó nada
err-bundle-malformed = el paquete tiene un formato incorrecto ({ $what }); no se importó nada
err-bundle-version = este paquete tiene la versión de formato { $found }, que este puente no puede leer (lee la versión { $supported }); actualice puente. No se importó nada

## Copias de seguridad (`puente restore`); cuando se rechaza una no se escribe nada

err-backup-not-a-backup = { $file } no es una copia de seguridad de puente; indique el archivo que escribió `puente backup`. No se restauró nada
err-backup-version = { $file } es una copia de seguridad con la versión de formato { $found }, que este puente no puede leer (lee la versión { $supported }); actualice puente. No se restauró nada
err-backup-truncated = { $file } está incompleto (la copia quedó cortada); vuelva a copiar la copia de seguridad, o use una anterior. No se restauró nada
err-backup-damaged = { $file } está dañado o fue alterado ({ $what }); use otra copia de la copia de seguridad. No se restauró nada
err-backup-wrong-passphrase = la frase de contraseña de la copia de seguridad { $file } no es correcta (o la copia fue alterada): una copia de seguridad se abre con la frase de contraseña que tenía el almacén cuando se hizo; revise PUENTE_PASSPHRASE o --passphrase-file. No se restauró nada
err-backup-weak-kdf = la copia de seguridad { $file } pide una derivación de clave más débil (m = { $m_kib } KiB, t = { $t }, p = { $p }) que el mínimo (m = 65536 KiB, t = 3, p = 4); se rechaza. No se restauró nada
err-backup-not-empty = { $dir } no está vacío: puente restaura una copia de seguridad solo en un directorio de datos nuevo o vacío; elija uno con --data-dir. No se restauró nada
err-backup-cannot-read = no se puede leer { $file }: { $reason }

## Los relés de la red, y por qué un relé rechazó una solicitud

err-relay-not-admin = solo una organización administradora puede elegir los relés de la red; pídaselo a una organización administradora de su red (vea `puente status`)
err-relay-not-in-use = ese relé no está en uso, así que no hay nada que retirar
err-relay-unchanged = ese relé ya está en uso con exactamente estas direcciones
err-relay-not-accepted = el registro de miembros no aceptó el cambio de relé; revise `puente audit log`
err-relay-turned-away = el relé rechaza este dispositivo: no lo conoce como miembro de una red que atiende (el nodo de una organización administradora se lo comunica cuando está en ejecución; `puente relay ticket` y `--admit` admiten la red), o este dispositivo fue revocado
err-relay-unknown-network = este relé todavía no atiende la red: quien lo opera debe iniciarlo con --admit y la línea que `puente relay ticket` muestra en el nodo de una organización administradora
err-relay-mismatch = el relé dio una respuesta que no corresponde a la solicitud
err-relay-refused-unknown-network = el relé no atiende esta red
err-relay-refused-not-admin = solo las organizaciones administradoras de la red pueden cambiar el acceso
err-relay-refused-not-member = el relé no conoce este dispositivo como miembro
err-relay-refused-full = el buzón está lleno ({ $used_entries } de { $max_entries } entradas, { $used_bytes } de { $max_bytes } bytes)
err-relay-refused-too-large = una entrada supera los { $max } bytes que se guardan
err-relay-refused-malformed = solicitud con formato incorrecto
err-relay-refused-unavailable = el relé no puede guardar nada en este momento

## Funciones

err-role-not-admin = solo una organización administradora puede cambiar roles; pídaselo a una organización administradora de su red (vea `puente status`)
err-role-org-revoked = esa organización está revocada; para volver a agregarla hace falta una nueva invitación
err-role-already = { $role ->
        [admin] esa organización ya es administradora
       *[member] esa organización ya es miembro
    }
err-role-not-accepted = el registro de miembros no aceptó el cambio de función; revise `puente audit log`

## Invitaciones y unirse a una red

err-invite-bad-token = esta no es una invitación de puente completa; copie el código completo (empieza con `{ $prefix }`) e intente de nuevo
err-invite-malformed = mensaje para unirse con formato incorrecto: { $what }
err-invite-bad-signature = la firma de la solicitud para unirse no es válida
err-invite-bad-name = el nombre de una organización debe tener entre 1 y { $max } caracteres
err-join-unreachable = no se puede contactar a la organización que le invitó en { $addresses }; verifique que su nodo esté en marcha (`puente run`) y se pueda alcanzar desde aquí, y luego intente de nuevo
err-join-refused = la organización que le invitó rechazó la solicitud: { $reason }
err-join-closed = el nodo de la organización que le invitó cerró la conexión: la invitación ya se usó, venció o se canceló, o el código no lo creó esa organización; pida una nueva invitación
err-join-not-confirmed = la organización que le invitó no confirmó en { $minutes } { $minutes ->
        [one] minuto
       *[other] minutos
    }; pídale que ejecute `puente invite confirm`, y luego únase de nuevo
err-join-device-invitation = esta invitación agrega un dispositivo a una organización existente, y este directorio de datos contiene el almacén propio de una organización; en el dispositivo nuevo ejecute `puente init --device` (con un directorio de datos vacío), y luego `puente join TOKEN` allí
err-join-organisation-invitation = esta invitación es para una organización nueva, pero este almacén se creó con `puente init --device` para ser un dispositivo de una organización existente; pida a un dispositivo de su organización una invitación de dispositivo (`puente device add`) y únase con ella
err-join-device-not-empty = este almacén se creó con `puente init --device` pero contiene registros escritos antes de unirse; un dispositivo nuevo debe empezar vacío: ejecute `puente init --device` con otro directorio de datos vacío y únase desde allí
err-join-no-address = la invitación no incluye ninguna dirección; pida a la organización que le invitó un código creado mientras su nodo está en marcha, o con --address
err-join-not-an-answer = el nodo de la organización que le invitó envió algo que no es una respuesta para unirse; intente de nuevo, o pida una nueva invitación
err-join-refusal-unknown-invitation = aquí no se conoce esta invitación; pida una nueva
err-join-refusal-bad-signature = la solicitud para unirse no está firmada por el dispositivo que nombra
err-join-refusal-expired = esta invitación venció; pida una nueva
err-join-refusal-cancelled = esta invitación fue cancelada
err-join-refusal-cancelled-while-waiting = la organización que le invitó canceló esta invitación
err-join-refusal-used = esta invitación ya se usó; pida una nueva
err-join-refusal-not-recorded = el nodo de la organización que le invitó no pudo registrar la solicitud; intente de nuevo
err-join-refusal-malformed = solicitud para unirse con formato incorrecto

## Valores que la biblioteca de registros rechazó: el valor de una opción, un campo de una
## oferta, reserva o perfil, una celda de una importación

err-invalid-value = valor no válido '{ $value }' para '{ $arg }': { $reason }
err-county = el condado `{ $text }` no es un código FIPS de 5 dígitos (Sacramento es 06067, Yolo 06113, Placer 06061)
err-language = el idioma `{ $text }` no es una etiqueta BCP 47 o ISO 639-3 como es, en, mam o quc
err-unknown-term = `{ $text }` no es { $what ->
        [kind] un tipo de ayuda válido
        [subject-type] un tipo de oferente válido
        [language-mode] un modo de idioma válido
        [accepts-value] un valor válido de a quién se acepta
        [affirming-value] un valor válido de afirmación
        [accessibility-value] un valor válido de accesibilidad
        [household-note] una nota válida sobre el hogar
        [capability] una capacidad válida
        [unit] una unidad válida
        [vetting-level] un nivel de verificación válido
        [status] un estado válido
        [bond-band] un rango de fianza válido
        [requester-state] un estado de solicitud válido
        [decision] una decisión válida
       *[other] un valor válido de { $what }
    }; use uno de estos: { $expected }
err-label-too-long = la descripción tiene { $count } caracteres; use { $max } o menos
    .reason = tiene { $count } caracteres; use { $max } o menos
err-label-control-character = la descripción tiene un salto de línea o un carácter de control; escríbala en una sola línea de texto simple
    .reason = tiene un salto de línea o un carácter de control; escríbalo en una sola línea de texto simple
err-label-phone-number = parece que la descripción incluye un número de teléfono; las organizaciones aliadas preguntan por sus ofertas por la vía de contacto de su organización, así que no ponga datos de contacto
    .reason = parece incluir un número de teléfono; no ponga datos de contacto
err-label-email = parece que la descripción incluye un correo electrónico; las organizaciones aliadas preguntan por sus ofertas por la vía de contacto de su organización, así que no ponga datos de contacto
    .reason = parece incluir un correo electrónico; no ponga datos de contacto
err-label-a-number = parece que la descripción incluye un número A (A-number); nunca ponga números de caso ni datos migratorios en las ofertas compartidas
    .reason = parece incluir un número A (A-number); nunca ponga números de caso ni datos migratorios en lo que se comparte
err-label-street-address = parece que la descripción incluye una dirección; comparta solo el condado y una zona, nunca dónde está una casa o un albergue
    .reason = parece incluir una dirección; nunca comparta dónde está una casa o un albergue
err-revocation-reason = --reason se comparte con todas las organizaciones aliadas y queda para siempre en el registro de membresía, y el motivo { $why }
err-slug = { $what ->
        [handle] el seudónimo
        [zone] la zona
       *[other] { $what }
    } debe tener de 2 a 32 caracteres (a-z, 0-9 y '-'), sin empezar ni terminar con '-' y con menos de 7 dígitos (por ejemplo host-7f3k)
err-duration = `{ $text }` no es una duración; escríbala así: 90m, 48h, 14d o 2w
err-date = `{ $text }` no es una fecha; escriba YYYY-MM-DD, YYYY-MM-DDTHH:MM, today, tomorrow, +Nd o +NdTHH:MM
err-time-zone = zona horaria desconocida `{ $text }`; use un nombre IANA como America/Los_Angeles

## Reglas de los registros

err-rule-window-ends-before-start = un periodo debe terminar después de empezar (START..END=TOTAL; END no se incluye)
err-rule-window-too-long = un periodo puede durar como máximo diez años
err-rule-weekly-window-too-long = un periodo semanal puede durar como máximo una semana
err-rule-window-total = el total de un periodo debe estar entre 1 y { $max }
err-rule-no-county = una oferta necesita al menos un condado (un código FIPS de 5 dígitos)
err-rule-too-many-counties = una oferta puede tener como máximo { $max } condados
err-rule-too-many-languages = una oferta puede tener como máximo { $max } idiomas
err-rule-too-many-windows = una oferta puede tener como máximo { $max } periodos
err-rule-too-many-windows-after-change = la oferta tendría demasiados periodos
err-rule-out-of-range = { $field ->
        [lead_time] el aviso previo (lead time)
        [max_stay] la estancia máxima (max stay)
        [post_within] el plazo para pagar la fianza (post within)
        [expires_in] el plazo de vencimiento (expires-in)
       *[other] { $field }
    } está fuera del rango permitido
err-rule-bond-fields-without-bond-fund = el rango de fianza y el plazo para pagarla (bond band y post-within) son solo para fondos de fianzas (kind bond-fund, unit usd)
err-rule-bond-fund-not-in-usd = un fondo de fianzas se cuenta en usd
err-rule-hold-quantity = la cantidad de una reserva debe estar entre 1 y { $max }
err-rule-hold-ends-before-start = una reserva debe terminar después de empezar
err-rule-own-offer = una organización no hace reservas en sus propias ofertas; cambie el periodo
err-rule-org-name = el nombre de la organización debe tener de 1 a { $max } caracteres en una sola línea
err-rule-intake = la vía de contacto debe tener como máximo { $max } caracteres en una sola línea

## Ventanas (--window, --add-window, la celda windows de una importación)

err-window-syntax = el periodo `{ $spec }` no tiene la forma START..END=TOTAL o START..END=TOTAL/weekly (por ejemplo +1dT13:00..+1dT16:00=2/weekly o 2026-12-01..2026-12-15=1)
err-window-total = el periodo `{ $spec }` tiene el total `{ $total }`; escriba un número entero de 1 a { $max }
err-window-date = el periodo `{ $spec }` tiene una fecha que no se entendió: { $reason }
err-window-refused = no se aceptó el periodo `{ $spec }`: { $reason }
err-window-too-many = una oferta puede tener como máximo { $max } periodos

## Archivos para importar, y sus filas (la columna va antes de la frase)

err-import-empty = el archivo está vacío; la primera línea debe ser un encabezado con los nombres de las columnas: { $columns }
err-import-too-large = el archivo tiene { $bytes } bytes; importe como máximo { $max } bytes (16 MiB) a la vez, dividiéndolo en archivos más pequeños
err-import-too-many-rows = el archivo tiene más de { $max } filas; divídalo en archivos más pequeños
err-import-header-unknown = el encabezado de la línea 1 tiene una columna desconocida, `{ $name }`; las columnas aceptadas son: { $columns }
err-import-header-duplicate = el encabezado de la línea 1 nombra dos veces la columna `{ $name }`; las columnas aceptadas son: { $columns }
err-import-header-missing = al encabezado de la línea 1 le faltan columnas obligatorias: { $names }; las columnas aceptadas son: { $columns }
err-import-header-empty-name = el encabezado de la línea 1 tiene una columna sin nombre en la posición { $position }; las columnas aceptadas son: { $columns }
err-import-header-not-utf8 = el encabezado de la línea 1 no es texto UTF-8; guarde el archivo como UTF-8 («CSV UTF-8» en una hoja de cálculo); las columnas aceptadas son: { $columns }
err-import-malformed = línea { $line }: no se pudo leer el archivo como CSV ({ $reason })
err-row-cell-count = la fila tiene { $found } { $found ->
        [one] celda
       *[other] celdas
    }, pero el encabezado tiene { $expected } { $expected ->
        [one] columna
       *[other] columnas
    }; ponga entre comillas dobles una descripción que contenga una coma
err-row-not-utf8 = la celda no es texto UTF-8; guarde el archivo como UTF-8 («CSV UTF-8» en una hoja de cálculo)
err-row-cell-too-long = la celda tiene { $chars } caracteres; una celda puede tener como máximo { $max }
err-row-duplicate-handle = el seudónimo `{ $handle }` ya se usa en la línea { $first }; cada seudónimo debe aparecer una sola vez en el archivo
err-row-required = la columna { $column } es obligatoria
err-row-owner = owner debe ser el id de una organización, tal como lo escribe una exportación, o quedar vacío

## Filas de una importación

err-row-other-organisation = esta fila pertenece a otra organización ({ $owner }); una importación solo cambia las ofertas de su organización, así que quite la fila (exporte sin --partners para obtener solo las suyas)
err-row-unchangeable = el campo { $field } de la oferta { $offer } no puede cambiar; retírela (`puente offer withdraw { $offer }`) e importe la fila con otro handle
err-row-shared-handle = { $offers } de sus ofertas comparten este handle, así que la fila no puede indicar cuál actualizar; deles handles distintos con `puente offer update`

## Iniciar un nodo

err-node-port-in-use = no se puede escuchar en { $addr }: el puerto ya está en uso (¿otro nodo de puente?); indique otro puerto con --listen, por ejemplo --listen /ip4/0.0.0.0/tcp/{ $port } --listen /ip4/0.0.0.0/udp/{ $port }/quic-v1
err-node-listen = no se puede escuchar en { $addr }: { $reason }; indique otra dirección u otro puerto con --listen
err-node-invalid-address = --listen: { $reason }
err-node-thread = el nodo no pudo iniciar: no se puede iniciar el hilo del nodo: { $reason }; libere algo de memoria e intente de nuevo
err-node-could-not-start = el nodo no pudo iniciar: { $reason }

## Comandos que atiende un nodo en marcha (lado del cliente)

err-client-argument-not-utf8 = un argumento no es texto UTF-8, así que no se puede pasar al nodo en marcha en { $dir }; cambie el nombre del archivo o detenga el nodo
err-client-cwd-not-passable = el directorio actual no se puede pasar al nodo en marcha en { $dir }; ejecute el comando desde otro directorio
err-client-not-withdrawn = No se retiró; no cambió nada.
err-client-no-reason = el nodo informó un fallo sin dar el motivo; ejecute RUST_LOG=debug puente run para ver más
err-client-stopped-answering = el nodo en marcha en { $dir } dejó de responder; si se detuvo, ejecute el comando de nuevo
err-client-cannot-send = no se puede enviar el comando al nodo en marcha en { $dir }: { $reason }; intente de nuevo
err-client-connection-lost = el nodo en marcha en { $dir } cerró la conexión antes de responder (¿se está deteniendo?); revise con `puente offer list` si algo cambió, y luego intente de nuevo
err-client-not-understood = el nodo en marcha en { $dir } envió una respuesta que este puente no entiende; use la misma versión de puente para el nodo y para los comandos

## Comandos que atiende un nodo en marcha (lado del nodo)

err-server-cannot-read-dir = no se puede leer { $dir }: { $reason }
err-server-socket-is-directory = { $path } es un directorio, y ahí va el socket de control; elimínelo e intente de nuevo
err-server-cannot-remove-socket = no se puede eliminar el socket de control sobrante { $path }: { $reason }
err-server-cannot-create-socket = no se puede crear el socket de control { $path }: { $reason }; use un directorio de datos con una ruta más corta
err-server-cannot-restrict-socket = no se pueden restringir los permisos del socket de control { $path }: { $reason }
err-server-frame-too-large = un mensaje de { $len } bytes supera el límite de { $max }
err-server-request-timeout = no llegó ninguna solicitud a tiempo; los comandos de puente envían la suya de inmediato
err-server-request-ended-early = la solicitud terminó antes de tiempo
err-server-not-a-request = la solicitud no es una solicitud de control de puente
err-server-protocol-version = este nodo usa la versión { $ours } del protocolo de control, no la { $theirs }; use la misma versión de puente que el nodo en marcha
err-server-cwd-not-absolute = el directorio de trabajo de la solicitud no es una ruta absoluta
err-server-invalid-arguments = argumentos no válidos
err-server-init-refused = ya hay un nodo en marcha aquí; `puente init` es para un directorio de datos nuevo y vacío (elija uno con --data-dir)
err-server-join-refused = detenga el nodo (Ctrl-C donde se está ejecutando) antes de `puente join`, y luego vuelva a iniciarlo
err-server-run-refused = ya hay un nodo en marcha aquí; deténgalo (Ctrl-C donde se está ejecutando) antes de iniciar otro
err-server-restore-refused = ya hay un nodo en marcha aquí; `puente restore` es para un directorio de datos nuevo y vacío (elija uno con --data-dir)
err-server-internal = el nodo tuvo un error interno al ejecutar este comando; por favor repórtelo
err-server-did-not-run = { $reason }; el comando no se ejecutó

## Ajustes que lee cada comando

err-format-hsds-export-only = --format hsds es solo para `puente export`; aquí use table, json o csv
err-format-csv-unavailable = --format csv no está disponible para este comando; use table o json
err-replica-asked-twice = este comando pidió dos veces la réplica del nodo; por favor repórtelo
err-bad-now = PUENTE_NOW `{ $text }` no es una hora RFC 3339 como 2026-11-22T09:00:00-08:00; corríjala o quítela
err-no-data-dir = no se sabe dónde guardar los datos: indique --data-dir DIR o defina PUENTE_DATA_DIR

## La frase de contraseña del almacén, y las preguntas que la piden

err-passphrase-env-not-utf8 = PUENTE_PASSPHRASE no es texto UTF-8 válido; asígnele el texto de la frase de contraseña
err-passphrase-missing = falta la frase de contraseña: defina PUENTE_PASSPHRASE o indique --passphrase-file FILE (no hay una terminal donde preguntarla)
err-passphrase-empty = la frase de contraseña está vacía; escriba la frase de contraseña del almacén
err-passphrase-too-short = la frase de contraseña es demasiado corta; use al menos { $min } caracteres (lo mejor son unas cuantas palabras al azar)
err-passphrase-differ = las dos frases de contraseña no coinciden; ejecute el comando de nuevo
err-passphrase-terminal = no se pudo leer la frase de contraseña desde la terminal: { $reason }
err-passphrase-file-unreadable = no se puede leer el archivo de la frase de contraseña { $path }: { $reason }
err-passphrase-file-not-regular = el archivo de la frase de contraseña { $path } no es un archivo común
err-passphrase-file-readable-by-others = otros usuarios pueden leer el archivo de la frase de contraseña { $path }; ejecute `chmod 600 { $path }` e intente de nuevo
err-passphrase-file-too-large = el archivo de la frase de contraseña { $path } tiene más de { $max } bytes; ¿es el archivo correcto?
err-passphrase-file-not-utf8 = el archivo de la frase de contraseña { $path } no es texto UTF-8
err-passphrase-prompt-open = Frase de contraseña para { $dir }:
err-passphrase-prompt-new = Nueva frase de contraseña:
err-passphrase-prompt-repeat = Repita la frase de contraseña:
err-passphrase-choose = Elija una frase de contraseña para el nuevo almacén en { $dir } (al menos { $min } caracteres).
err-passphrase-keep-safe = Sin ella nadie, ni siquiera usted, puede leer el almacén: guárdela en un lugar seguro.

err-network-nothing-to-erase = no queda nada que borrar antes de esa fecha: ningún periodo de clave empezó antes, o un borrado anterior ya lo cubrió; vea `puente history status`
err-network-erasure-not-accepted = el registro de miembros no aceptó el borrado; revise `puente audit log`
err-write-awaiting-rebase = se borró el historial y otro dispositivo de su organización está reenviando sus registros; inténtelo de nuevo cuando este nodo se haya sincronizado con él (`puente history status`)
