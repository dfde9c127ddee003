"""Admin area: users and the audit log."""
