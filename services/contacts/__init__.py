"""The contacts service: contacts, the tag catalog, custom fields; publishes contacts.events.v1."""
