# rows: las palabras de las tablas, informes y líneas de estado (cli/src/rows, render.rs,
# output.rs). La salida para programas (JSON, CSV, valores fijos, ids, horas RFC 3339) nunca
# sale de aquí; lo que el usuario escribe (tipos de oferta, condados, roles, comandos
# `puente ...`) queda igual dentro de las frases.

## Escribir la salida

rows-output-csv-failed = no se pudo escribir el CSV: { $reason }
rows-output-stdout-failed = no se pudo escribir en la salida estándar: { $reason }
rows-output-answer-failed = no se pudo leer la respuesta: { $reason }

## Horas, duraciones y actualidad
## $unit es un símbolo (min, h, d), igual en todos los idiomas.

rows-just-now = ahora mismo
rows-ago = hace { $count } { $unit }
rows-in = en { $count } { $unit }
rows-now = ahora
rows-freshness = confirmada { $ago }
rows-freshness-state = confirmada { $ago } ({ $state })

## Estados y cantidades ($state, $status y $unit son los valores que lleva el JSON)

rows-offer-state =
    { $state ->
        [active] activa
        [expired] vencida
        [withdrawn] retirada
       *[other] { $state }
    }
rows-hold-status =
    { $status ->
        [pending] pendiente
        [confirmed] confirmada
        [overbooked] sobrerreservada
        [declined] rechazada
        [released] liberada
        [expired] vencida
        [invalid] no válida
       *[other] { $status }
    }
rows-quantity =
    { $unit ->
        [bed]
            { $count ->
                [one] { $count } cama
               *[other] { $count } camas
            }
        [room]
            { $count ->
                [one] { $count } habitación
               *[other] { $count } habitaciones
            }
        [slot]
            { $count ->
                [one] { $count } cupo
               *[other] { $count } cupos
            }
        [shift]
            { $count ->
                [one] { $count } turno
               *[other] { $count } turnos
            }
        [seat]
            { $count ->
                [one] { $count } asiento
               *[other] { $count } asientos
            }
        [usd] { $count } usd
       *[other] { $count } { $unit }
    }
rows-bond-within = { $band } en menos de { $duration }

## Palabras en celdas y bloques de clave y valor

rows-yes = sí
rows-no = no
rows-this-device = este dispositivo
rows-unknown-device = dispositivo desconocido ({ $key })
rows-target-org = "{ $name }" (organización)
rows-target-device = el dispositivo { $key } de "{ $name }"
rows-target-device-unknown = el dispositivo { $key }

## Claves de los bloques de clave y valor (whoami, status, peer revocations)

rows-key-organisation = organización
rows-key-organisation-id = id de la organización
rows-key-public-key = clave pública
rows-key-fingerprint = huella
rows-key-time-zone = zona horaria
rows-key-counties = condados
rows-key-intake = admisión
rows-key-network = red
rows-key-epoch = época
rows-key-devices = dispositivos
rows-key-node = nodo
rows-key-by = por
rows-key-reason = motivo
rows-key-claimed = declarada
rows-key-effective = vigente

## Encabezados de tabla (compartidos por todas las tablas)

col-id = ID
col-member = MIEMBRO
col-role = ROL
col-device = DISPOSITIVO
col-device-key = CLAVE DEL DISPOSITIVO
col-reached = CONEXIÓN
col-last-sync = ÚLTIMA SINCRONIZACIÓN
col-pending = PENDIENTES
col-relay = RELÉ
col-this-node = ESTE NODO
col-mailbox = BUZÓN
col-offers-by = OFERTAS DE
col-count = CANTIDAD
col-state = ESTADO
col-status = ESTADO
col-connected = CONECTADO
col-organisation = ORGANIZACIÓN
col-addresses = DIRECCIONES
col-expires = VENCE
col-safety-phrase = FRASE DE SEGURIDAD
col-confirmed = CONFIRMÓ
col-claimed-time = HORA DECLARADA
col-by = AUTOR
col-verdict = VEREDICTO
col-what = QUÉ HIZO
col-offer = OFERTA
col-kind = TIPO
col-handle = ALIAS
col-counties = CONDADOS
col-created = CREADA
col-hold = RESERVA
col-on-offer-of = EN OFERTA DE
col-qty = CANT.
col-needs = REQUIERE
col-partner = ALIADA
col-when = CUÁNDO
col-owner = OFERENTE
col-requester = SOLICITANTE
col-languages = IDIOMAS
col-available = DISPONIBLE
col-soonest = DESDE
col-freshness = CONFIRMACIÓN
col-intake = ADMISIÓN
col-windows = PERIODOS
col-last-confirmed = CONFIRMADA
col-window = PERIODO
col-start = INICIO
col-end = FIN
col-repeats = SE REPITE
col-total = TOTAL
col-next = PRÓXIMO
col-from = DESDE
col-to = HASTA

## whoami y status

rows-device-pending = ninguna todavía: este dispositivo espera unirse a su organización (`puente device add` en uno de sus dispositivos, luego `puente join TOKEN` aquí)
rows-no-network = ninguna todavía: `puente network create --name NAME`, o `puente join TOKEN`
rows-devices-line =
    { $count ->
        [one] 1, este
       *[other] { $count }, este y { $others } más (`puente device list`)
    }{ $waiting ->
        [yes] ; este dispositivo espera la clave de la red: deje `puente run` en marcha hasta que el nodo de una organización administradora la comparta
       *[no] { "" }
    }
# $what es `organisation` o `device`; $when es una hora local y cuánto hace.
rows-revoked-sentence =
    { $what ->
        [organisation] Su organización fue revocada
       *[device] Este dispositivo fue revocado
    } por "{ $by }" el { $when }{ $has_reason ->
        [yes] { " " }("{ $reason }")
       *[no] { "" }
    }: las organizaciones aliadas rechazan todo lo que escribe este nodo y no le envían nada nuevo. Pregúnteles si se trata de un error.
rows-status-revoked = REVOCACIÓN: { $sentence }
rows-status-network-pending = ninguna todavía: se une a la de su organización con `puente join TOKEN`
rows-status-node-running = en marcha, escucha en { $addresses }
rows-status-node-stopped = detenido (inícielo con `puente run`)
rows-status-invitations-waiting =
    { $count ->
        [one] { $count } invitación espera confirmación: vea `puente invite list`.
       *[other] { $count } invitaciones esperan confirmación: vea `puente invite list`.
    }
rows-reach-direct = directa desde el { $since }
rows-reach-relayed = por el relé { $relay } desde el { $since }
rows-reach-unreachable = inalcanzable desde el { $since }
rows-relay-reachable-since = accesible a través de él desde el { $since }
rows-relay-not-connected-since = sin conexión desde el { $since }
rows-mailbox = { $deposited } depositados, { $collected } recogidos, { $pending } por enviar

## device list y peer list

rows-device-member = miembro
rows-device-revoked =
    revocado{ $has_at ->
        [yes] { " " }el { $at }
       *[no] { "" }
    }{ $has_reason ->
        [yes] { " " }({ $reason })
       *[no] { "" }
    }
rows-devices-of = Dispositivos de "{ $org }":
rows-devices-hint = Agregue uno con `puente device add`; desconecte uno perdido con `puente device revoke KEY`.
rows-no-partners = Todavía no hay organizaciones aliadas. Invite a una con `puente invite create --org NAME`, o únase a una red.

## invite list

rows-no-invitations = No hay invitaciones. Cree una con `puente invite create --org NAME`.
rows-invitation-state =
    { $state ->
        [open] abierta
        [waiting-for-confirmation] espera confirmación
        [confirmed] confirmada
        [used] usada
        [cancelled] cancelada
        [expired] vencida
       *[other] { $state }
    }

## relay list

rows-relay-node-not-running = el nodo no está en marcha
rows-relay-reachable = accesible a través de él
rows-relay-reachable-problem = accesible a través de él; { $problem }
rows-relay-not-connected = sin conexión
rows-relay-not-connected-problem = sin conexión: { $problem }

## peer revocations, y las líneas de revocación de status

rows-revocation-head = Revocación { $id }: { $target }
rows-revocation-not-effective = no: { $reason }
rows-key-this-device = { $key } (este dispositivo)
rows-confirmed-on-epoch = sí, en la época { $epoch }
rows-not-heard-from-since = sin noticias desde el { $since }
rows-revocation-all-confirmed = Todos los dispositivos miembros que quedan lo confirmaron.
rows-revocation-missing =
    { $devices ->
        [one] { $missing } de { $devices } dispositivo miembro que queda
       *[other] { $missing } de { $devices } dispositivos miembros que quedan
    } aún sin noticias: { $missing ->
        [one] hasta que las haya, ese dispositivo puede seguir confiando en la clave revocada.
       *[other] hasta que las haya, esos dispositivos pueden seguir confiando en la clave revocada.
    }
rows-status-revoked-list = Revocados: { $targets }.
rows-status-revocation-missing =
    Tras revocar { $target }: { $devices ->
        [one] { $missing } de { $devices } dispositivo miembro
       *[other] { $missing } de { $devices } dispositivos miembros
    } sin noticias desde el { $since }; vea `puente peer revocations`.

## audit log

rows-audit-create = fundó la red con "{ $name }" como administradora, dispositivo { $key }
rows-audit-add-org = agregó "{ $name }" con el rol { $role }, dispositivo { $key }
rows-audit-add-device = agregó el dispositivo { $key } a "{ $org }"
rows-audit-set-role = dio a "{ $org }" el rol { $role }
rows-audit-new-key =
    nueva clave de cifrado, época { $epoch }, { $count ->
        [one] sellada para { $count } dispositivo
       *[other] sellada para { $count } dispositivos
    }{ $burned ->
        [yes] { " " }(quemada: nunca se usa para escribir nada nuevo)
       *[no] { "" }
    }
rows-audit-shared-key = compartió la clave de la época { $epoch } con { $devices }
rows-audit-revoke-org =
    revocó la organización "{ $name }" con { $count ->
        [one] su { $count } dispositivo
       *[other] sus { $count } dispositivos
    }{ $has_reason ->
        [yes] ; motivo: { $reason }
       *[no] { "" }
    }
rows-audit-revoke-device =
    revocó { $target }{ $has_reason ->
        [yes] ; motivo: { $reason }
       *[no] { "" }
    }
rows-audit-receipt =
    confirmó la revocación { $id }{ $has_target ->
        [yes] { " " }sobre { $target }
       *[no] { "" }
    }, ahora en la época { $epoch }
rows-audit-unknown = una operación que esta versión no describe
rows-audit-head =
    Historial de membresía de "{ $network_name }" ({ $network }): { $count ->
        [one] { $count } operación
       *[other] { $count } operaciones
    }, de la más antigua a la más reciente.
rows-audit-verified = Verificado de punta a punta: todas las firmas son válidas y cada operación tiene aquí las operaciones de las que depende.
rows-audit-unverified =
    { $count ->
        [one] AVISO: { $count } operación no pasa la verificación (firma u operaciones previas que faltan); informe de esto a las organizaciones administradoras de su red.
       *[other] AVISO: { $count } operaciones no pasan la verificación (firma u operaciones previas que faltan); informe de esto a las organizaciones administradoras de su red.
    }
rows-audit-invalid =
    { $count ->
        [one] { $count } operación no tiene efecto (no válida): su autor no tenía permiso para hacerla, o fue revocado al mismo tiempo.
       *[other] { $count } operaciones no tienen efecto (no válidas): sus autores no tenían permiso para hacerlas, o fueron revocados al mismo tiempo.
    }
rows-audit-no-effect = { $what } [sin efecto: { $reason }]
rows-verdict =
    { $verdict ->
        [valid] válida
        [invalid] no válida
        [unknown] desconocida
       *[other] { $verdict }
    }

## audit exposure, y el informe con que terminan las revocaciones

rows-exposure-head-revoked = Informe de exposición: lo que { $who } pudo leer cuando se le cortó el acceso (revocación { $id }, { $at }).
rows-exposure-explained = Enumera cada oferta y reserva con contenido cifrado con una clave que tenía la parte revocada ({ $epochs }). puente no puede saber cuáles le llegaron, así que la lista prefiere incluir de más. Úsela para decidir a quién avisar.
rows-exposure-head-not-revoked = Informe de exposición: { $who } no tiene el acceso revocado, así que puede leer ahora todo lo que sigue, y lo que las organizaciones aliadas publiquen después.
rows-exposure-own-not-listed = Sus propias ofertas y reservas no se enumeran: las escribió esa misma parte.
rows-exposure-nothing = Nada: este nodo no tiene ofertas ni reservas que pudiera leer.
rows-exposure-org-confirmed =
    { $name }: confirmó la revocación el { $when }{ $whole ->
        [yes] { " " }(todo: una parte llegó en una instantánea que no se puede separar)
       *[no] { "" }
    }:
rows-exposure-org-not-confirmed =
    { $name }: todavía no confirmó la revocación; lo que escriba hasta entonces también queda expuesto{ $whole ->
        [yes] { " " }(todo: una parte llegó en una instantánea que no se puede separar)
       *[no] { "" }
    }:
rows-exposure-none = ni ofertas ni reservas
rows-epochs-none = ninguna época
rows-epochs-one = época { $epoch }
rows-epochs-many = épocas { $epochs } y { $last }
rows-audit-erase = borró el historial: se destruyeron todas las claves anteriores a la época { $epoch }
