"""The public routes of the gateway, as tables of rows (``services.gateway.routing.Route``)."""
