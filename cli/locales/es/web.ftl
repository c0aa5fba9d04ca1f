# La página web para coordinadores.

web-ago = hace { $count } { $unit }
web-in = en { $count } { $unit }
