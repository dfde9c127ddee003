"""Accounts: registration, login, sessions, passwords."""
