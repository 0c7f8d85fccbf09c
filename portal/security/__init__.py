"""Sign-in, sessions, permissions and the audit trail."""
