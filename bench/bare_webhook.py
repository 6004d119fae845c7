"""The inbound benchmark's baseline: a bare Flask app whose webhook route answers empty TwiML and
does nothing else, served by gunicorn with Kindred's own settings
(`gunicorn --config python:gateway.gunicorn_config bench.bare_webhook:app`)."""

from flask import Flask

app = Flask(__name__)


@app.post("/webhooks/twilio/sms")
def sms() -> tuple[str, int, dict[str, str]]:
    return "<Response/>", 200, {"Content-Type": "text/xml"}


@app.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok", 200
