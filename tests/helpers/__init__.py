"""Helpers shared by the test modules. Test modules import from here, never from each other."""

# Every test user's password, in-process and on the real server alike.
PASSWORD = "correct horse battery"

# argon2id at 1 MiB (about 1 ms a hash here) instead of the production 19 MiB (about 50 ms):
# tests hash and verify on every user they make and every login. The settings fixture and the
# real server (tests/helpers/server.py) use it; one test checks the production cost.
ARGON2_MEMORY_KIB = 1024
