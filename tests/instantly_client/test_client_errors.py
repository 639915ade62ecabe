"""Error mapping: status -> class, server message extraction, single-line str, hints."""

import pytest

from instantly_client import errors as e


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, e.BadRequestError),
        (401, e.AuthenticationError),
        (402, e.PaymentRequiredError),
        (403, e.PermissionDeniedError),
        (404, e.NotFoundError),
        (413, e.PayloadTooLargeError),
        (422, e.BadRequestError),
        (429, e.RateLimitError),
        (500, e.ServerError),
        (503, e.ServerError),
        (409, e.APIStatusError),
    ],
)
def test_error_for_status_picks_the_class_named_by_meaning(status, cls):
    err = e.error_for_status(status, method="GET", path="/x", server_message="boom")
    assert type(err) is cls
    assert err.status_code == status
    assert err.server_message == "boom"
    assert isinstance(err, e.InstantlyError)


@pytest.mark.parametrize(
    ("body", "text", "expected"),
    [
        (
            {"statusCode": 400, "error": "Bad Request", "message": "body must have required property 'name'"},
            "",
            "body must have required property 'name'",
        ),
        (
            {"message": "Start Date must be earlier than End Date"},
            "",
            "Start Date must be earlier than End Date",
        ),
        ({"error": "Lead not found"}, "", "Lead not found"),
        ({"message": ["a is bad", "b is bad"]}, "", "a is bad; b is bad"),
        (None, "<html>\n Bad gateway \n</html>", "<html> Bad gateway </html>"),
        (None, "", None),
    ],
)
def test_server_message_handles_every_documented_error_body(body, text, expected):
    assert e.server_message_from_body(body, text) == expected


@pytest.mark.parametrize(
    ("cls", "phrase"),
    [
        (e.PaymentRequiredError, "no active paid plan with API access"),
        (e.AuthenticationError, "INSTANTLY_API_KEY"),
        (e.PermissionDeniedError, "leads:create"),
        (e.NotFoundError, "unknown id"),
        (e.RateLimitError, "INSTANTLY_RATE_PER_SECOND"),
        (e.ConnectionFailedError, "sandbox"),
    ],
)
def test_each_error_carries_a_plain_english_hint(cls, phrase):
    err = cls("x")
    assert phrase in err.hint
    assert phrase in str(err)


def test_str_is_a_single_line_even_when_the_server_message_has_newlines():
    err = e.error_for_status(400, method="POST", path="/leads/add", server_message="line one\nline two\r\n")
    assert "\n" not in str(err) and "\r" not in str(err)
    assert str(err).startswith("POST /leads/add HTTP 400: line one line two")


def test_outcome_unknown_error_carries_method_path_and_cause():
    cause = ValueError("read timeout")
    err = e.OutcomeUnknownError("maybe applied", method="POST", path="/leads/add", cause=cause)
    assert (err.method, err.path, err.cause) == ("POST", "/leads/add", cause)
    assert "POST /leads/add" in str(err)


def test_client_side_validation_error_is_a_value_error_and_bad_request_is_a_validation_error():
    assert issubclass(e.ValidationError, ValueError)
    assert issubclass(e.BadRequestError, e.ValidationError)
    assert issubclass(e.MissingAPIKeyError, e.AuthenticationError)
    assert issubclass(e.MissingAPIKeyError, ValueError)
