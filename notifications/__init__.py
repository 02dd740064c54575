"""Outage notices: lifecycle, lead times, templates, durable outbox and apprise channels."""
