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
