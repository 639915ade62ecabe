"""Pin the public API: adding or removing a name must be a deliberate change to this list."""

import instantly_client

EXPECTED = {
    "CAMPAIGN_TIMEZONES",
    "DEFAULT_BASE_URL",
    "JOB_TERMINAL_STATUSES",
    "MAX_LEADS_PER_ADD",
    "USER_AGENT",
    "WEBHOOK_EVENT_TYPES",
    "ahead_of_the_queue",
    "concurrency_for",
    "APIStatusError",
    "Account",
    "AmbiguousNameError",
    "AuthenticationError",
    "BackgroundJob",
    "BadRequestError",
    "BatchLimiter",
    "BulkAddResult",
    "BulkAddSummary",
    "CallableLimiter",
    "Campaign",
    "CampaignAnalytics",
    "CampaignAnalyticsOverview",
    "CampaignDailyAnalytics",
    "CampaignIn",
    "CampaignPatch",
    "CampaignSchedule",
    "CampaignSequence",
    "CampaignStatus",
    "CampaignStepAnalytics",
    "ClientStats",
    "ConnectionFailedError",
    "CreatedLead",
    "CreatedLeadRef",
    "Email",
    "InstantlyClient",
    "InstantlyError",
    "InterestStatus",
    "JobTimeoutError",
    "Lead",
    "LeadIn",
    "LeadPatch",
    "LeadStatus",
    "Limiter",
    "MissingAPIKeyError",
    "NotFoundError",
    "OutcomeUnknownError",
    "Page",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateFeedback",
    "RateLimitError",
    "RateLimiter",
    "RequestTimeoutError",
    "Schedule",
    "ScheduleTiming",
    "SequenceStep",
    "ServerError",
    "SlidingWindowLimiter",
    "StepVariant",
    "ValidationError",
    "Webhook",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookEventsSummary",
    "WebhookIn",
    "WebhookPatch",
    "WebhookTestResult",
    "Workspace",
    "__version__",
    "nearest_timezone",
    "shared_limiter",
}


def test_all_lists_exactly_the_public_names():
    assert set(instantly_client.__all__) == EXPECTED
    assert len(instantly_client.__all__) == len(EXPECTED)


def test_every_public_name_is_importable():
    for name in instantly_client.__all__:
        assert hasattr(instantly_client, name), name


def test_every_error_is_an_instantly_error():
    for name in instantly_client.__all__:
        obj = getattr(instantly_client, name)
        if isinstance(obj, type) and name.endswith("Error"):
            assert issubclass(obj, instantly_client.InstantlyError), name


def test_client_package_imports_no_pipeline_libraries():
    import subprocess
    import sys

    code = (
        "import sys, instantly_client; "
        "bad = [m for m in ('prefect', 'polars', 'duckdb', 'instantly_sandbox') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
