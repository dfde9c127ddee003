"""Search: every message a person may read, found the way people type (app/search/service.py)."""
