"""Offline-first sync: change log, scoped pull, exactly-once push, attachments, device client."""

from sync.changelog import SCOPE_ALL, SCOPE_NETWORK, ChangeOp, crew_scope, latest_seq

__all__ = ["SCOPE_ALL", "SCOPE_NETWORK", "ChangeOp", "crew_scope", "latest_seq"]
