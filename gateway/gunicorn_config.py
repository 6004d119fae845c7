"""gunicorn's settings for Kindred's web process, read by the Procfile's `web` line and by
`kindred demo`: `gunicorn -c python:gateway.gunicorn_config 'gateway:create_app()'`.

The platform's variables decide the address and the number of processes; gunicorn's own logs
(start-up, worker deaths, one line per request) go through Kindred's key=value handler, so
every line a deployment writes has one shape, and a request's line names its path, never its
query string.
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 (a platform's router)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers: a worker's main loop goes on telling the arbiter it is alive while a request
# runs, so a long streamed download (a large export) is not killed at the 30 s worker timeout,
# which still ends a worker whose loop hangs.
worker_class = "gthread"
# Several threads a process, so a download or two in progress never leaves no one to answer
# Twilio's webhooks (which give up after 15 s).
threads = int(os.environ.get("WEB_THREADS", "4"))
# One line per request ("POST /webhooks/twilio/sms 200 5 bytes 12 ms"); ACCESS_LOG=off drops
# them (the demo does: its simulator page asks for news every second).
access_log_format = "%(m)s %(U)s %(s)s %(B)s bytes %(M)s ms"
access_level = "WARNING" if os.environ.get("ACCESS_LOG", "on").lower() == "off" else "INFO"
# gunicorn 27 opens a control socket in the user's home, shared by every gunicorn of that
# user; a deployment has no use for it.
control_socket_disable = True
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["kindred"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": access_level, "handlers": [], "propagate": True},
    },
    "handlers": {"kindred": {"()": "gateway.logs.handler"}},
    "formatters": {},
}
