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
