"""Flood protection per sender number: Kindred never answers a flood with a flood.

A number that sends more than FLOOD_LIMIT texts in any FLOOD_WINDOW (a script, a loop with
another auto-responder, a stuck phone) is throttled: its texts beyond the limit are still
stored, but get no answer and run no flows, until its rate drops again. An opt-out among them
is still recorded. Counted in Redis, so every web process shares the count; if Redis fails,
texts are answered as usual (the limit fails open: a volunteer's text matters more).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError

from gateway import keys
from gateway.delivery.addresses import digest, redact
from gateway.extensions import pause_redis, redis_client, redis_paused

log = logging.getLogger(__name__)

FLOOD_LIMIT = 60
FLOOD_WINDOW = timedelta(minutes=1)
_KEY = "kindred:flood:{}"  # by the number's keyed digest: Redis never holds a number


def throttled(number: str, provider_id: str, now: datetime) -> bool:
    """Count this text from `number` (once per provider id) and say whether it is past the
    limit: more than FLOOD_LIMIT texts from the number in the FLOOD_WINDOW up to `now`."""
    if redis_paused():
        return False
    key = _KEY.format(digest(number, current_app.config["SECRET_KEY"], keys.FLOOD_PURPOSE))
    moment = now.timestamp()
    window = FLOOD_WINDOW.total_seconds()
    try:
        pipe = redis_client().pipeline()  # one round trip, applied at once (MULTI/EXEC)
        pipe.zremrangebyscore(key, "-inf", moment - window)
        pipe.zadd(key, {provider_id: moment})
        pipe.zcard(key)
        pipe.expire(key, int(window) * 2)
        count = pipe.execute()[2]
    except (RedisError, OSError) as exc:
        pause_redis(exc)
        log.warning("sms: could not count texts from %s; answering as usual", redact(number), exc_info=True)
        return False
    if count == FLOOD_LIMIT + 1:
        log.warning(
            "sms: %s sent more than %s texts in %s s; its texts are kept but not answered",
            redact(number),
            FLOOD_LIMIT,
            int(window),
        )
    return count > FLOOD_LIMIT
