"""The Twilio transport: the official client, pointed at the Twilio API double, and the one
table that turns Twilio's answers into ours."""

from __future__ import annotations

import pytest

from gateway.delivery.transports import Failure, OutboundSms, TransportError
from gateway.delivery.transports.twilio_sms import TwilioSmsTransport
from tests.doubles.servers import free_port
from tests.doubles.twilio_api import TwilioApiDouble

CALLBACK = "https://kindred.example.org/webhooks/twilio/status"


def transport(api: TwilioApiDouble, **sender: str) -> TwilioSmsTransport:
    return TwilioSmsTransport(api.account_sid, api.auth_token, api_base_url=api.base_url, **sender)


def test_sends_from_the_number_with_a_status_callback(twilio_api: TwilioApiDouble) -> None:
    result = transport(twilio_api, from_number="+15005550006").send(
        OutboundSms("+15558675309", "Hola 👋", CALLBACK)
    )
    (sent,) = twilio_api.sent
    assert (sent["to"], sent["from_"], sent["body"], sent["status_callback"]) == (
        "+15558675309",
        "+15005550006",
        "Hola 👋",
        CALLBACK,
    )
    assert result.provider_id == sent["sid"] and result.status == "sent"


def test_sends_through_a_messaging_service(twilio_api: TwilioApiDouble) -> None:
    transport(twilio_api, messaging_service_sid="MG" + "1" * 32).send(OutboundSms("+15558675309", "hi"))
    (sent,) = twilio_api.sent
    assert sent["messaging_service_sid"] == "MG" + "1" * 32 and not sent["from_"]


@pytest.mark.parametrize(
    "configured", [{"from_number": "+15005550006"}, {"messaging_service_sid": "MG" + "1" * 32}]
)
def test_a_text_that_names_its_sender_goes_from_that_number(
    twilio_api: TwilioApiDouble, configured: dict[str, str]
) -> None:
    transport(twilio_api, **configured).send(OutboundSms("+15558675309", "hi", sender="+15550100200"))
    (sent,) = twilio_api.sent
    assert sent["from_"] == "+15550100200" and not sent["messaging_service_sid"]


@pytest.mark.parametrize(
    ("fault", "code", "failure"),
    [
        (("reject", 400, 21610), "21610", Failure.OPTED_OUT),
        (("reject", 400, 21211), "21211", Failure.UNDELIVERABLE),
        (("reject", 400, 21614), "21614", Failure.UNDELIVERABLE),
        (("reject", 400, 30006), "30006", Failure.UNDELIVERABLE),
        (("reject", 400, 30003), "30003", Failure.FAIL_AFTER),
        (("reject", 400, 30005), "30005", Failure.FAIL_AFTER),
        (("reject", 429, 20429), "20429", Failure.THROTTLE),
        (("reject", 429, 63018), "63018", Failure.THROTTLE),
        (("reject", 400, 21408), "21408", Failure.PERMANENT),
        (("reject", 400, 21604), "21604", Failure.PERMANENT),  # not in the table: a 4xx
        (("fail", 429, None), "20429", Failure.THROTTLE),
        (("fail", 500, None), "20500", Failure.RETRY),
        (("fail", 503, None), None, Failure.RETRY),
    ],
)
def test_provider_errors_are_translated_in_one_place(
    twilio_api: TwilioApiDouble, fault: tuple, code: str | None, failure: Failure
) -> None:
    kind, status, error = fault
    if kind == "reject":
        twilio_api.reject("+15558675309", status=status, code=error)
    else:
        twilio_api.fail_next(status=status)
    with pytest.raises(TransportError) as caught:
        transport(twilio_api, from_number="+15005550006").send(OutboundSms("+15558675309", "hi"))
    assert caught.value.failure is failure
    assert caught.value.permanent == (
        failure in (Failure.OPTED_OUT, Failure.UNDELIVERABLE, Failure.PERMANENT)
    )
    assert caught.value.opt_out == (failure is Failure.OPTED_OUT)
    if code:
        assert caught.value.code == code


@pytest.mark.parametrize(("bypassed", "scheme"), [(False, "http://"), (False, ""), (True, "http://")])
def test_a_proxy_in_the_environment_is_used_unless_no_proxy_names_twilio(
    bypassed: bool, scheme: str, twilio_api: TwilioApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment that reaches Twilio through an egress proxy sets HTTP(S)_PROXY (with or
    without its scheme, as requests takes it), and one that must not sets NO_PROXY: the
    environment is read once, when the transport is built."""
    for name in ("http_proxy", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    # The double answers as the proxy would.
    monkeypatch.setenv("HTTP_PROXY", scheme + twilio_api.base_url.removeprefix("http://"))
    if bypassed:
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    nothing_listens = f"http://127.0.0.1:{free_port()}"  # reached only through the proxy
    sms = TwilioSmsTransport(
        twilio_api.account_sid, twilio_api.auth_token, "+15005550006", api_base_url=nothing_listens
    )
    monkeypatch.delenv("HTTP_PROXY")  # already read
    if bypassed:
        with pytest.raises(TransportError) as caught:
            sms.send(OutboundSms("+15558675309", "hi"))
        assert not caught.value.permanent and not twilio_api.sent
    else:
        result = sms.send(OutboundSms("+15558675309", "hi"))
        assert [sent["sid"] for sent in twilio_api.sent] == [result.provider_id]


def test_an_unreachable_provider_is_a_passing_error() -> None:
    api = TwilioApiDouble("AC" + "0" * 32, "token")
    base = api.base_url
    api.stop()
    with pytest.raises(TransportError) as caught:
        TwilioSmsTransport(api.account_sid, "token", "+15005550006", api_base_url=base).send(
            OutboundSms("+15558675309", "hi")
        )
    assert not caught.value.permanent


def test_an_answer_lost_on_the_way_back_is_a_passing_error_the_http_client_does_not_resend(
    twilio_api: TwilioApiDouble,
) -> None:
    """Twilio took the text but its answer never came (the connection closed): the transport
    says so, and leaves what to do to the outbox (which knows what was recorded) rather than
    its HTTP client sending the text again."""
    sms = transport(twilio_api, from_number="+15005550006")
    sms.send(OutboundSms("+15558675309", "first"))  # the connection is pooled, kept open
    twilio_api.drop_response_next()
    with pytest.raises(TransportError) as caught:
        sms.send(OutboundSms("+15558675309", "second"))
    assert not caught.value.permanent
    assert [sent["body"] for sent in twilio_api.sent] == ["first", "second"]
    sms.send(OutboundSms("+15558675309", "third"))  # a new connection
    assert [sent["body"] for sent in twilio_api.sent] == ["first", "second", "third"]
