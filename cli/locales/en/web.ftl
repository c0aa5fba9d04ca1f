# The coordinators' web page.

web-ago = { $count } { $unit } ago
web-in = in { $count } { $unit }
