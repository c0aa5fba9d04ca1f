# La página web para coordinadores, y `puente open`.

## Tiempos, como se dicen

web-just-now = ahora mismo
web-now = ahora
web-ago = hace { $count } { $unit }
web-in = en { $count } { $unit }
web-days = { $count ->
    [one] { $count } día
   *[other] { $count } días
}
web-hours = { $count ->
    [one] { $count } hora
   *[other] { $count } horas
}

## Servir la página, iniciar sesión

web-serving = Página web para coordinadores: { $url } (ejecute `puente open` para iniciar sesión)
web-port-in-use = otro programa ocupa el puerto { $port } de 127.0.0.1; elija otro con --web-port (por ejemplo --web-port { $other }) o desactive la página con --no-web
web-cannot-listen = no se puede servir la página web en { $addr }: { $reason }; elija otro puerto con --web-port o desactive la página con --no-web
web-open-needs-node = no hay ningún nodo de puente en marcha en { $dir }; inícielo con `puente run` y vuelva a ejecutar `puente open`
web-open-off = este nodo funciona sin su página web (--no-web); deténgalo e inicie `puente run` sin --no-web
web-open-opened = El enlace se abre en su navegador; funciona una sola vez, durante 10 minutos.
web-open-paste = Abra este enlace en un navegador de esta computadora; funciona una sola vez, durante 10 minutos.
web-refused-host = Rechazado: esta página solo responde en su propia dirección en esta computadora (http://127.0.0.1 con su puerto).
web-refused-origin = Rechazado: este formulario no se envió desde la página de puente.
web-refused-session = Rechazado: no ha iniciado sesión. Ejecute `puente open` para obtener un enlace de inicio de sesión.
web-refused-csrf = Rechazado: este formulario está desactualizado. Vuelva a cargar la página e inténtelo de nuevo.
web-sign-in-title = Iniciar sesión en puente
web-sign-in-how = Para iniciar sesión, ejecute este comando en la computadora donde funciona su nodo y abra el enlace que muestra:
web-sign-in-why = Cada enlace funciona una sola vez, durante 10 minutos. Nadie más puede usar esta página sin su propio enlace.
web-link-used = Este enlace de inicio de sesión ya se usó, venció o nunca fue válido. Ejecute `puente open` para obtener uno nuevo.
web-signed-out = Cerró la sesión.
web-sign-out = Cerrar sesión
web-skip = Saltar al contenido
web-switch-language = English
web-unreadable-answer = El nodo dio una respuesta que esta página no puede leer; use la misma versión de puente para el nodo y la página.
web-not-found = Esta página no existe.
web-back-to-search = Volver a la búsqueda

## Navegación

web-nav-label = Principal
web-nav-search = Buscar
web-nav-offers = Nuestras ofertas
web-nav-publish = Publicar una oferta
web-nav-inbox = Bandeja de entrada
web-nav-partners = Organizaciones aliadas
web-nav-import = Importar una hoja de cálculo
web-waiting = { $count ->
    [one] { $count } asunto espera su respuesta
   *[other] { $count } asuntos esperan su respuesta
}

## Búsqueda

web-search-title = Buscar ayuda en la red
web-search-button = Buscar
web-results = Resultados
web-no-match = Ninguna oferta coincide. Pruebe con menos filtros u otras fechas.
web-found = { $count ->
    [one] { $count } oferta coincide.
   *[other] { $count } ofertas coinciden.
}
web-any-kind = Cualquier tipo de ayuda
web-field-kind = Tipo de ayuda
web-field-county = Condados
web-hint-county = Códigos FIPS de 5 dígitos, separados por comas (Sacramento: 06067)
web-field-zone = Zona
web-hint-zone = Su propia etiqueta de zona, como south-sac; nunca una dirección
web-field-lang = Idiomas
web-hint-lang = Códigos de idioma separados por comas: es, en, mam, quc
web-field-from = Desde
web-field-to = Hasta (sin incluir)
web-field-qty = Cuántos
web-field-fresh = Confirmada
web-fresh-any = En cualquier momento
web-fresh-day = En el último día
web-fresh-3days = En los últimos 3 días
web-fresh-week = En la última semana
web-field-accepts = Acepta a
web-field-affirming = Afirmativa
web-col-offer = Oferta
web-col-owner = Organización
web-col-where = Dónde
web-col-languages = Idiomas
web-col-available = Disponible
web-col-soonest = Lo antes posible
web-col-freshness = ¿Sigue disponible?
web-col-intake = Cómo contactarles
web-col-expires = Vence
web-confirmed-when = confirmada { $when }
web-withdrawn = retirada
web-expired = vencida

## Nuestras ofertas: publicar, cambiar

web-offers-title = Nuestras ofertas
web-no-offers = Su organización todavía no tiene ofertas.
web-publish-title = Publicar una oferta
web-publish-privacy = Las organizaciones aliadas ven todo lo que sigue. Use un seudónimo y una zona, nunca un nombre, teléfono, correo electrónico ni dirección.
web-field-handle = Seudónimo
web-hint-handle = Minúsculas, dígitos y guiones, como host-7f3k
web-field-label = Descripción breve
web-hint-label = Se comparte con las organizaciones aliadas: sin teléfono, correo, número A ni dirección
web-field-status = Estado
web-field-expires = Vence si no se confirma
web-expires-default = En el plazo habitual para este tipo
web-field-renew = Renovar por
web-keep-as-is = Dejar como está
web-window = Disponibilidad
web-field-start = Primer día
web-field-end = Último día (sin incluir)
web-field-total = Cuántos (camas, cuartos, turnos...)
web-field-weekly = Se repite cada semana
web-publish-button = Publicar
web-windows = Disponibilidad
web-no-windows = No hay ningún periodo abierto.
web-available-of = { $available } de { $total } disponibles
web-still-available = Sigue disponible
web-withdraw = Retirar
web-withdraw-sure = Sí, retirar esta oferta
web-withdraw-tick = Marque primero «Sí, retirar esta oferta»; no se cambió nada.
web-edit = Cambiar esta oferta
web-save = Guardar los cambios

## Reservas

web-holds-on-offer = Reservas de esta oferta
web-no-holds = No hay reservas.
web-place-hold = Hacer una reserva
web-whole-window = Todo el periodo (sin fechas)
web-place-hold-button = Hacer la reserva
web-hold-line = { $qty } del { $from } al { $to }
web-lapses = caduca { $when }
web-hold-confirm = Confirmar
web-hold-decline = Rechazar

web-our-holds-here = Nuestras reservas en esta oferta

## Bandeja de entrada

web-inbox-title = Bandeja de entrada
web-inbox-empty = Nada espera su respuesta por ahora.
web-inbox-answer = { $partner } pide reservar { $qty } de
web-inbox-our-hold = Nuestra reserva de { $qty } con { $partner }:
web-inbox-expiring = Está por vencer, renueve o retire:
web-our-holds = Nuestras reservas en ofertas de organizaciones aliadas

## Organizaciones aliadas, invitaciones, revocación

web-partners-title = Organizaciones aliadas
web-col-partner = Organización
web-col-role = Rol
web-col-connection = Conexión
web-col-last-sync = Última sincronización
web-col-actions = Acciones
web-this-computer = esta computadora
web-not-connected = sin conexión
web-connected-direct = conectada directamente
web-connected-relay = conectada a través de un relé
web-invitations = Invitaciones
web-no-invitations = No hay invitaciones.
web-invitation-made = Se creó la invitación para { $org }. Envíeles este código por un canal seguro (por ejemplo Signal); funciona una sola vez.
web-invitation-token = Código
web-compare-phrase = Están esperando. Llámeles y comparen esta frase de seguridad; confirme solo si la suya es igual:
web-phrase-matches = La frase coincide: confirmar
web-cancel-invitation = Cancelar la invitación
web-expires-when = vence { $when }
web-invite-title = Invitar a una organización
web-field-org = Nombre de la organización
web-field-invite-expires = Válida por
web-invite-button = Crear la invitación
web-revoke = Revocar
web-revoke-title = Revocar a { $org }
web-revoke-warning = Revocar deja a esta organización fuera de la red para siempre. Lea lo que hace y lo que no puede hacer:
web-revoke-does-1 = Toda organización aliada que recibe la revocación deja de confiar en sus claves de inmediato, y lo que se escriba después se cifra con una clave que nunca reciben.
web-revoke-does-2 = La revocación llega a cada organización aliada que su nodo alcanza; no se puede deshacer.
web-revoke-cannot-1 = No puede quitarles lo que ya recibieron: el informe de abajo muestra lo que pudieron leer.
web-revoke-cannot-2 = Las organizaciones aliadas sin conexión siguen confiando en ellas hasta que les llegue la revocación.
web-exposure = Lo que pudieron leer (informe de exposición)
web-field-reason = Motivo (opcional)
web-hint-reason = Se comparte con todas las organizaciones aliadas y se guarda para siempre: pocas palabras, sin nombres
web-revoke-sure = Sí, revocar a { $org }
web-revoke-tick = Marque primero la casilla para confirmar la revocación; no se cambió nada.
web-revoked = { $org } quedó revocada.
web-back-to-partners = Volver a las organizaciones aliadas

## Importar

web-import-title = Importar una hoja de cálculo
web-import-how = Suba un archivo CSV en el formato de importación de puente. Para partir de sus ofertas actuales, descárguelas aquí abajo, edite el archivo en una hoja de cálculo y vuelva a subirlo. Verá lo que haría cada fila antes de que se escriba nada.
web-download-offers = Descargar nuestras ofertas como hoja de cálculo (CSV)
web-upload-title = Elegir un archivo
web-field-file = Archivo CSV
web-withdraw-missing = Retirar también nuestras ofertas que el archivo no incluye
web-check-button = Revisar el archivo
web-dry-run = Lo que haría importar { $file }
web-dry-run-summary = { $created } nuevas, { $updated } cambiadas, { $unchanged } sin cambios, { $rejected } rechazadas. No se escribe nada hasta que pulse Importar.
web-col-line = Línea
web-col-handle = Seudónimo
web-col-action = Acción
web-col-why = Detalles
web-allow-partial = Importar las filas válidas y dejar fuera las rechazadas
web-import-button = Importar
web-upload-missing = Elija primero un archivo CSV.
web-upload-unreadable = No se pudo leer el archivo subido; elíjalo de nuevo.
web-upload-too-large = El archivo es demasiado grande; importe como máximo 16 MiB a la vez, dividiéndolo en archivos más pequeños.
web-upload-gone = El archivo para importar ya no está aquí (se volvió a cargar la página o se reinició el nodo); elíjalo de nuevo.

## Vocabulario: acciones de importación, estados de reservas, roles, invitaciones

import-create = crear
import-update = cambiar
import-unchanged = sin cambios
import-rejected = rechazada
import-withdraw = retirar
hold-pending = espera respuesta
hold-confirmed = confirmada
hold-overbooked = sobrerreservada
hold-declined = rechazada
hold-released = liberada
hold-expired = caducada
hold-invalid = no válida
role-admin = administradora
role-member = miembro
invitation-open = esperando a que se unan
invitation-waiting-for-confirmation = espera su confirmación
invitation-confirmed = confirmada
invitation-used = se unió
invitation-expired = vencida
invitation-cancelled = cancelada

## Vocabulario: tipos de ayuda

kind-host-home = Hogar de acogida
kind-shelter-bed = Cama en albergue
kind-dv-confidential-shelter = Albergue confidencial (violencia doméstica)
kind-bond-fund = Fondo de fianzas
kind-bond-obligor = Fiador de fianza
kind-parole-sponsor = Patrocinador de libertad condicional
kind-housing-sponsor = Patrocinador de vivienda
kind-accompany-court = Acompañamiento a la corte
kind-accompany-ice-checkin = Acompañamiento a citas con ICE
kind-accompany-dmv = Acompañamiento al DMV
kind-accompany-school = Acompañamiento a la escuela
kind-legal-consult = Consulta legal
kind-legal-representation = Representación legal
kind-bond-hearing-prep = Preparación para audiencia de fianza
kind-medical-primary = Atención médica primaria
kind-gender-affirming-care = Atención de afirmación de género
kind-hiv-care = Atención del VIH
kind-mental-health = Salud mental
kind-interpretation = Interpretación
kind-transport-driver = Conductor
kind-rr-legal-observer = Observador legal de respuesta rápida
kind-rr-dispatcher = Despachador de respuesta rápida
kind-funds-emergency-cash = Dinero de emergencia
kind-commissary = Fondos para comisaría
kind-other = Otro

## Vocabulario: a quién acepta, afirmación, estado, cantidades

accepts-adult-women = Mujeres adultas
accepts-adult-men = Hombres adultos
accepts-trans-women = Mujeres trans
accepts-trans-men = Hombres trans
accepts-nonbinary = Personas no binarias
accepts-families-with-children = Familias con niños
accepts-youth-18-24 = Jóvenes de 18 a 24
accepts-couples = Parejas
affirming-lgbtq = Afirmativa LGBTQ
affirming-trans = Afirmativa trans
status-capacity = Tiene cupo
status-no-capacity = Sin cupo
status-waitlist = Lista de espera
status-assessment-required = Requiere evaluación
qty-bed = { $count ->
    [one] { $count } cama
   *[other] { $count } camas
}
qty-room = { $count ->
    [one] { $count } cuarto
   *[other] { $count } cuartos
}
qty-slot = { $count ->
    [one] { $count } cupo
   *[other] { $count } cupos
}
qty-shift = { $count ->
    [one] { $count } turno
   *[other] { $count } turnos
}
qty-seat = { $count ->
    [one] { $count } asiento
   *[other] { $count } asientos
}
qty-usd = { $count } USD
