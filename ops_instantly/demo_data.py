"""A realistic demo Ops table: a few hundred leads, some invalid and some duplicated (seeded)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import polars as pl

FIRST = [
    "Ava",
    "Liam",
    "Maya",
    "Noah",
    "Zoe",
    "Ethan",
    "Isla",
    "Lucas",
    "Nora",
    "Omar",
    "Priya",
    "Ravi",
    "Sofia",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zane",
    "Chloe",
    "Diego",
    "Elena",
    "Farah",
    "Hana",
]
LAST = [
    "Nguyen",
    "Patel",
    "Garcia",
    "Smith",
    "Kowalski",
    "Okafor",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Dubois",
    "Haddad",
    "Larsen",
    "Moreau",
    "Silva",
    "Cohen",
    "Ivanova",
    "Kim",
    "Murphy",
    "Fischer",
    "Lopez",
]
COMPANIES = [
    ("Northwind Analytics", "northwind.io", "SaaS"),
    ("Bluefin Logistics", "bluefin.co", "Logistics"),
    ("Cobalt Health", "cobalthealth.com", "Healthcare"),
    ("Driftwood Labs", "driftwood.dev", "SaaS"),
    ("Evergreen Retail", "evergreen-retail.com", "Retail"),
    ("Foxglove Finance", "foxglove.finance", "Fintech"),
    ("Granite Robotics", "graniterobotics.ai", "Manufacturing"),
    ("Harbor Media", "harbormedia.tv", "Media"),
    ("Ironbark Security", "ironbark.sh", "Security"),
    ("Juniper Energy", "juniper.energy", "Energy"),
    ("Kestrel Travel", "kestrel.travel", "Travel"),
    ("Lumen Education", "lumen.edu.example", "Education"),
]
TITLES = ["Head of Growth", "VP Sales", "RevOps Manager", "Founder & CEO", "Marketing Director", "SDR Lead"]
LEAD_SOURCES = ["Webinar", "Referral", "Outbound list", "Inbound demo request", "Conference"]
CITIES = ["Austin", "Berlin", "Toronto", "London", "Lisbon", "Singapore", "Chicago", "Sydney"]


def demo_leads(rows: int = 300, *, seed: int = 42) -> pl.DataFrame:
    """A messy Ops table: ~4% invalid or blank emails and ~4% duplicates (case and whitespace variants)."""
    rng = random.Random(seed)
    sources = random.Random(seed + 1)  # its own stream: the other columns stay as they were
    records: list[dict[str, Any]] = []
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, domain, industry = rng.choice(COMPANIES)
        email = f"{first}.{last}{i}@{domain}".lower()
        roll = rng.random()
        if roll < 0.02:
            email = f"{first}.{last}{i}-at-{domain}"  # invalid: no @
        elif roll < 0.04:
            email = ""  # blank
        records.append(
            {
                "Email": email,
                "First Name": first,
                "Last Name": last,
                "Company": company,
                "Job Title": rng.choice(TITLES),
                "Website": f"https://{domain}",
                "Industry": industry,
                "Employees": rng.choice([12, 45, 120, 480, 1500, 5200]),
                "City": rng.choice(CITIES),
                "Signed Up": date(2026, 1, 1) + timedelta(days=rng.randrange(300)),
                "Lead Score": round(rng.uniform(0, 100), 1),
                "Lead Source": sources.choice(LEAD_SOURCES),
            }
        )
    for i in rng.sample(range(len(records)), k=max(1, rows // 25)):
        dup = dict(records[i])
        if "@" in dup["Email"]:
            dup["Email"] = f"  {dup['Email'].upper()} "  # the same person, exported twice
            records.append(dup)
    return pl.DataFrame(records)
