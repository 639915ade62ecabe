"""Resources: one module per API resource, attached to the client as attributes."""

from .accounts import Accounts
from .analytics import Analytics
from .campaigns import Campaigns
from .emails import Emails
from .jobs import Jobs
from .leads import Leads
from .webhook_events import WebhookEvents
from .webhooks import Webhooks
from .workspaces import Workspaces

__all__ = [
    "Accounts",
    "Analytics",
    "Campaigns",
    "Emails",
    "Jobs",
    "Leads",
    "WebhookEvents",
    "Webhooks",
    "Workspaces",
]
