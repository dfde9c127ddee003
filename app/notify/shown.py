"""What each person has been shown a notification of, per conversation, until they read it: the
highest message number notified. Reading closes notifications only where one was shown (most
reads close nothing, and send no push to any device), and only once the read reaches it (reading
older messages leaves the newer one's notification up).

In the running worker's memory with one worker; in Redis with several (any worker may take the
read), kept as long as a push lives (TTL_SECONDS): after that, nothing is left to close."""
from __future__ import annotations

import logging

from redis.exceptions import RedisError

from app import clock
from app.runtime import runtime

log = logging.getLogger("huddle.notify")

TTL_SECONDS = 12 * 3600  # a push's own TTL: an older notification is gone or the person saw it
MEMORY_LIMIT = 100_000

# KEYS: the marks of each person notified. ARGV: seq, ttl. Each keeps the highest number notified.
RAISE = """
for _, key in ipairs(KEYS) do
  local now = tonumber(redis.call('GET', key) or '0')
  if tonumber(ARGV[1]) > now then
    redis.call('SET', key, ARGV[1], 'EX', ARGV[2])
  else
    redis.call('EXPIRE', key, ARGV[2])
  end
end
return #KEYS
"""
# KEYS: the mark. ARGV: seq read. Removes the mark if the read reached it; 1 if it did.
TAKE = """
local shown = redis.call('GET', KEYS[1])
if shown and tonumber(shown) <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


def _key(user_id: int, conversation_id: int) -> str:
    return f"{runtime().settings.redis_prefix}notified:{user_id}:{conversation_id}"


async def mark(user_ids, conversation_id: int, seq: int) -> None:
    """These people were shown (or sent) a notification of message number seq here."""
    parts = runtime()
    if parts.redis is not None:
        try:
            keys = [_key(user_id, conversation_id) for user_id in user_ids]
            if keys:
                await parts.redis.register_script(RAISE)(keys=keys, args=[seq, TTL_SECONDS])
            return
        except (RedisError, OSError) as error:
            log.warning("notifications shown not shared (Redis: %s)", error)
    shown = parts.notified
    if len(shown) > MEMORY_LIMIT:
        expired = clock.monotonic() - TTL_SECONDS
        for key in [key for key, (_, at) in shown.items() if at < expired]:
            del shown[key]
    now = clock.monotonic()
    for user_id in user_ids:
        before = shown.get((user_id, conversation_id), (0, now))[0]
        shown[(user_id, conversation_id)] = (max(before, seq), now)


async def take(user_id: int, conversation_id: int, seq: int) -> bool:
    """The person read the conversation up to seq: True (once) if that covers what they were
    notified of there, which is then to be closed."""
    parts = runtime()
    if parts.redis is not None:
        try:
            return bool(await parts.redis.register_script(TAKE)(keys=[_key(user_id, conversation_id)], args=[seq]))
        except (RedisError, OSError) as error:
            log.warning("notifications shown not shared (Redis: %s)", error)
    found = parts.notified.get((user_id, conversation_id))
    if found is None or found[0] > seq:
        return False
    del parts.notified[(user_id, conversation_id)]
    return True
