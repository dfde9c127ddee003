"""Infrastructure for live updates, below every feature: the broker that moves event envelopes,
presence, rendering an event once, and per-socket limits. Imports no feature package."""
