"""Instantly webhooks without losing an event: receive, spool durably, ingest exactly once.

    webhooks/events.py    payload names, the content-hash id, the warehouse row (pure)
    webhooks/spool.py     append-only segment files, fsync'd in groups; what the ingest reads
    webhooks/receiver.py  the ASGI app (Starlette under uvicorn) behind `ops-instantly webhooks listen`

The ingest is a flow (`flows/ingest_webhook_events.py`, tasks in `tasks/webhook_events.py`). Run from the repo
root like `tasks/` and `flows/`; never installed under this generic name.
"""
