"""Users, roles, devices and their bearer tokens."""
