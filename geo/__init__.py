"""Valve isolation, outage area and affected customers on the pipe network."""
