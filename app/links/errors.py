"""How a link preview fetch fails (app/links/fetch.py re-exports both): Refused when the address,
the answer or the page breaks a rule (trying again will not help), Unavailable when the site
could not be reached or answered an error for now (the job tries again later)."""
from __future__ import annotations


class Refused(Exception):
    """The fetch broke a rule; str(e) says which, for logs ("not a public address", "too large")."""


class Unavailable(Exception):
    """The site could not be reached, or answered an error: perhaps not for long."""
