"""Domain of the contacts service: models and rules, no I/O."""
