"""Customers (accounts): personal data kept with least access."""
