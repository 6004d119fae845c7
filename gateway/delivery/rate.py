"""How fast each sending number may text: a token bucket per sender in Redis, shared by every
worker, refilled at SMS_SENDER_MPS tokens a second and holding a tenth of a second's worth (at
least one), so even a short stretch of sending keeps close to the rate.

Redis's own clock times the refill, so workers on several machines agree on it. A sender the
provider says is over its rate (Twilio 20429, 63018, HTTP 429) is emptied for a moment. Each
sender has its own bucket, so one busy number never slows another.

Replies go first. A reply takes its token at once, even into debt, and holds its place in line
until the token is due. A text Kindred starts (a round's idea, a reminder) takes a place only
if its token would come within a moment (`most_ahead`), and otherwise asks again later without
taking one: so however many of a round's texts are waiting, a reply waits only for the replies
ahead of it and that moment's worth of tokens. If Redis cannot be reached,
the send goes ahead: the provider's own limit still holds, and a text must not wait on us.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from redis import Redis
from redis.commands.core import Script
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_KEY = "kindred:sender-rate:{}"
_TICKET = "kindred:sender-rate:{}:ticket:{}"
# KEYS[1]: the bucket; KEYS[2]: the ticket of one text. ARGV: rate (tokens a second), capacity,
# the seconds to empty the bucket for (a throttle; 0 to take a token), and the most milliseconds
# the text may take a place for (-1: any). A text takes one token the first time it asks, even
# when that leaves the bucket in debt: its ticket then holds the moment its token is due, and it
# waits for that moment, asking again, without taking another. A text whose token would be due
# later than it may wait takes nothing and is told when that would be. Returns the milliseconds
# to wait (0: it may send now).
_TAKE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local rate = tonumber(ARGV[1]) / 1000
local capacity = tonumber(ARGV[2])
local hold = tonumber(ARGV[3]) * 1000
local most_ahead = tonumber(ARGV[4])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
if hold > 0 then
  tokens = math.min(tokens, -hold * rate)
else
  local due = tonumber(redis.call('GET', KEYS[2]))
  if due then
    if due <= now then
      redis.call('DEL', KEYS[2])
      return 0
    end
    return due - now
  end
  if most_ahead >= 0 and tokens < 1 and (1 - tokens) / rate > most_ahead then
    return math.ceil((1 - tokens) / rate)
  end
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 1000)
if hold > 0 or tokens >= 0 then
  return 0
end
local wait = math.ceil(-tokens / rate)
redis.call('SET', KEYS[2], now + wait, 'PX', wait + 3600000)
return wait
"""
THROTTLE_SECONDS = 1.0  # how long a sender the provider throttled is held back


def capacity(rate: float) -> float:
    """The most tokens a sender's bucket holds: a tenth of a second's worth, at least one."""
    return max(1.0, rate / 10)


def take(redis: Redis, sender: str, rate: float, ticket: str, most_ahead: float | None = None) -> float:
    """Take a token for one text (`ticket`: the same for every try of that text) from `sender`
    at `rate` texts a second; returns the seconds to wait for it (0.0: it may send now). The
    text keeps its place while it waits: asking again, it waits only for the rest of that time.
    With `most_ahead` seconds, it takes a place only if its token is due within them; otherwise
    it takes nothing, is told how long the line is, and asks again later, behind any text that
    took a place meanwhile."""
    try:
        waited = _run_take(
            redis,
            _KEY.format(sender),
            _TICKET.format(sender, ticket),
            rate,
            capacity(rate),
            0,
            -1 if most_ahead is None else round(most_ahead * 1000),
        )
    except RedisError:
        log.warning("rate: could not read the rate of a sender; sending anyway", exc_info=True)
        return 0.0
    return cast(int, waited) / 1000


def throttle(redis: Redis, sender: str, rate: float, seconds: float = THROTTLE_SECONDS) -> None:
    """Hold `sender` back for `seconds`: the provider said it is over its rate."""
    try:
        _run_take(
            redis,
            _KEY.format(sender),
            _TICKET.format(sender, "throttle"),
            rate,
            capacity(rate),
            seconds,
            -1,
        )
    except RedisError:
        log.warning("rate: could not hold back a throttled sender", exc_info=True)


def _run_take(redis: Redis, bucket: str, ticket: str, *args: Any) -> Any:
    """Run _TAKE as redis-py's Script runs it: by its digest (EVALSHA), so the script is sent once
    per Redis server rather than with each text, and again to one that forgot it (restarted)."""
    return _TAKE_SCRIPT(keys=[bucket, ticket], args=args, client=redis)


# Built once, for every client (building one hashed the script at every take); as bytes, it
# needs no client's encoder to hash.
_TAKE_SCRIPT = Script(None, _TAKE.encode())  # type: ignore[arg-type]
