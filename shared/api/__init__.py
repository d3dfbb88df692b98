"""The public HTTP API's shapes (``/v2``), defined once: the gateway documents them, the
services that own the data validate against the same names and constants."""
