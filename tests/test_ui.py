"""The Prefect UI as a user meets it: a real `prefect server start` with its UI, `prefect deploy --all`, a worker,
and headless Chromium (Debian's `chromium`, driven by Playwright) launching a push from the run form.

Checks: the push-leads form is flat and typed with the credentials block already chosen; no page shows the API
key or the Postgres password; the run launched from the form carries the per-campaign log lines and the
artifacts itself (no child run); the per-row outcomes are found by the launched run's id. Screenshots go to
the test's output directory (and to $OPS_UI_SCREENSHOTS when set: `docs/img` refreshes the docs' images).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.postgres_scratch import PostgresScratch
from tests.prefect_server import prefect_exe, prefect_server
from tests.services import require_service
from tests.tasks.push_helpers import make_campaign

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# The flags a headless check needs, and nothing that reaches out (updates, sync, field trials).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROWS = 25
PUSH_PARAMETERS = [
    "credentials",
    "source",
    "postgres_source",
    "table",
    "query",
    "sheet",
    "campaigns",
    "key_column",
    "mapping_file",
    "skip_if",
    "dry_run",
    "batch_size",
    "timeout_seconds",
    "wait_seconds",
    "warehouse",
]


def _browser_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(args[:4])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


@contextmanager
def _worker(env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("w") as out:
        worker = subprocess.Popen(
            [prefect_exe(), "worker", "start", "--pool", "ops-instantly", "--limit", "1"],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _wait_for_final_state(api: str, run_id: str, worker_log: Path, timeout: float = 420) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
        if run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            return dict(run)
        time.sleep(2)
    raise AssertionError(f"run {run_id} did not finish:\n{worker_log.read_text()[-4000:]}")


class Screens:
    """Saves full-page screenshots into the test's output directory (and $OPS_UI_SCREENSHOTS)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.out.mkdir(parents=True, exist_ok=True)
        extra = os.environ.get("OPS_UI_SCREENSHOTS")
        self.extra = Path(extra) if extra else None

    def save(self, page: Any, name: str) -> Path:
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if self.extra is not None:
            self.extra.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, self.extra / path.name)
        return path


def _assert_no_secret(page: Any, secrets: list[str], where: str) -> None:
    html = page.content()
    for secret in secrets:
        assert secret not in html, f"{where} shows a secret"


def _serve_logos_from_the_repo(context: Any) -> None:
    """The block logos are files in this repo published at blocks._assets.REPO_FILES_URL; offline, the
    browser gets them from the checkout instead, so the check sees what a user's browser would load."""
    from blocks._assets import REPO_FILES_URL

    def fulfil(route: Any) -> None:
        relative = route.request.url[len(REPO_FILES_URL) + 1 :]
        file = REPO / relative
        if file.is_file() and file.suffix == ".svg":
            route.fulfill(status=200, content_type="image/svg+xml", body=file.read_bytes())
        else:
            route.fulfill(status=404, body="")

    context.route(f"{REPO_FILES_URL}/**", fulfil)


def test_a_push_launched_from_the_ui_form_shows_its_results_and_no_secret(
    tmp_path: Path, postgres_url: str, postgres_scratch: PostgresScratch
) -> None:
    require_service("Chromium (Debian package `chromium`) with Playwright", _browser_available())
    from playwright.sync_api import sync_playwright

    from instantly_sandbox import SandboxServer

    key = f"ui-check-key-{uuid.uuid4().hex}"
    password = f"ui-check-pw-{uuid.uuid4().hex[:12]}"  # trust auth on the test server accepts any password
    secret_url = postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    assert password in secret_url
    warehouse = tmp_path / "warehouse.duckdb"
    screens = Screens(tmp_path / "screenshots")
    table = postgres_scratch.table("ui_leads", "email text, first_name text, company text")
    postgres_scratch.execute(
        f"INSERT INTO {table} SELECT 'ui' || g || '@example.com', 'Ann' || g, 'Acme' FROM generate_series(1, {ROWS}) g"
    )
    with (
        SandboxServer(port=0, seed=11, api_keys=[key]) as sandbox,
        prefect_server(tmp_path / "prefect-home", ui=True) as env,
    ):
        sandbox.api_key = key
        campaign_id = make_campaign(sandbox, "UI check")
        # INFO: the run's own log lines are what the check reads (the test session runs at WARNING).
        env = {**env, "OPS_WAREHOUSE": str(warehouse), "PREFECT_LOGGING_LEVEL": "INFO"}
        api = env["PREFECT_API_URL"]
        _run(
            [
                sys.executable,
                "-c",
                "import sys; from pydantic import SecretStr; "
                "from blocks import InstantlyCredentials, PostgresSource; "
                "InstantlyCredentials(api_key=SecretStr(sys.argv[1]), base_url=sys.argv[2]).save('default'); "
                "PostgresSource(url=SecretStr(sys.argv[3])).save('crm')",
                key,
                sandbox.base_url,
                secret_url,
            ],
            env,
        )
        ops = str(Path(sys.executable).parent / "ops-instantly")
        _run(
            [
                ops,
                "connect-table",
                "--table",
                table,
                "--source-block",
                "crm",
                "--campaign",
                "UI check",
                "--credentials",
                "default",
            ],
            env,
        )
        _run([prefect_exe(), "work-pool", "create", "ops-instantly", "--type", "process"], env)
        _run([prefect_exe(), "--no-prompt", "deploy", "--all"], env)
        deployment = httpx.get(f"{api}/deployments/name/push-leads/push-leads", timeout=10).json()
        assert set(deployment["parameter_openapi_schema"]["properties"]) == set(PUSH_PARAMETERS)
        block_ref = deployment["parameters"]["credentials"]["$ref"]["block_document_id"]
        for each in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json():
            _assert_flat_form(each)

        worker_log = tmp_path / "worker.log"
        with _worker(env, worker_log), sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
            )
            _serve_logos_from_the_repo(context)
            page = context.new_page()
            ui = api.removesuffix("/api")
            run_id = _launch_from_the_form(page, ui, deployment["id"], block_ref, screens, [key, password])
            run = _wait_for_final_state(api, run_id, worker_log)
            assert run["state"]["type"] == "COMPLETED", worker_log.read_text()[-4000:]
            _check_the_run_page(page, ui, run_id, screens, [key, password])
            _check_the_block_catalog(page, ui, screens, [key, password])
            context.close()

        # The launched run carries the result: its own artifacts and logs, no child flow run.
        artifacts = httpx.post(
            f"{api}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}, timeout=10
        ).json()
        assert {"push-summary", "push-batches"} <= {a["key"] for a in artifacts}
        summary = next(a for a in artifacts if a["key"] == "push-summary")["data"]
        assert f"run_id = '{run_id}'" in summary
        children = httpx.post(
            f"{api}/flow_runs/filter",
            json={"flow_runs": {"parent_flow_run_id": {"any_": [run_id]}}},
            timeout=10,
        ).json()
        assert children == []
        logs = httpx.post(
            f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}}, timeout=10
        ).json()
        assert any(f"ops.{table} -> campaign 'UI check': created {ROWS}" in log["message"] for log in logs)
        stored = str(run["parameters"]) + str(logs) + str(artifacts)
        assert key not in stored and password not in stored

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        outcomes = con.execute(
            "SELECT campaign_id, outcome, count(*) FROM ops.push_results WHERE run_id = ? GROUP BY ALL",
            [run_id],
        ).fetchall()
    finally:
        con.close()
    assert outcomes == [(campaign_id, "created", ROWS)]


def _launch_from_the_form(
    page: Any, ui: str, deployment_id: str, block_ref: str, screens: Screens, secrets: list[str]
) -> str:
    """Deployments > push-leads > Run > Custom run, check the form, Submit; returns the new run's id."""
    page.goto(f"{ui}/")
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Deployments").first.click()
    page.get_by_role("link", name="push-leads").first.click()
    page.wait_for_url(re.compile(r".*/deployments/deployment/[0-9a-f-]{36}(\?.*)?$"))
    page.get_by_role("button", name="Run", exact=True).wait_for()
    page.wait_for_load_state("networkidle")
    screens.save(page, "ui-deployment")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()
    page.wait_for_url(re.compile(r".*/deployments/deployment/[0-9a-f-]{36}/run.*"))
    _wait_for_the_form(page)
    text = page.locator("main").inner_text()
    for name in PUSH_PARAMETERS:
        assert re.search(rf"^{name}( \(Optional\))?$", text, re.MULTILINE), f"no {name} field on the form"
    assert "params" not in text.split()
    assert 'Property is type "None"' not in text
    assert "source_url" not in text
    assert block_ref not in text  # a picker with the block's name, not a reference typed by hand
    logo = page.locator("img[src$='/blocks/logos/instantly-credentials.svg']").first
    logo.wait_for()
    assert logo.evaluate("img => img.complete && img.naturalWidth > 0"), "the block logo did not load"
    _assert_no_secret(page, secrets, "the run form")
    screens.save(page, "ui-run-form")
    _refuses_a_password_in_source(page, ui, deployment_id, screens, secrets)
    # A new form: after a refused Submit, one with the field emptied again did not always submit (CI, loaded).
    page.reload()
    _wait_for_the_form(page)
    page.get_by_role("button", name="Submit").click()
    # The UI creates the run and goes back to the deployment's Runs tab.
    page.wait_for_url(re.compile(r".*/deployments/deployment/[0-9a-f-]{36}\?tab=Runs"), timeout=60_000)
    runs = httpx.post(
        f"{ui}/api/flow_runs/filter",
        json={"flow_runs": {"deployment_id": {"any_": [deployment_id]}}},
        timeout=10,
    ).json()
    assert len(runs) == 1, runs
    assert runs[0]["parameters"]["credentials"] == {"$ref": {"block_document_id": block_ref}}
    return str(runs[0]["id"])


def _wait_for_the_form(page: Any) -> None:
    """Until the run form is ready: its fields, and the credentials picker showing the block the deployment
    chose, by name (once the blocks have loaded)."""
    page.get_by_text(re.compile(r"^timeout_seconds")).wait_for()
    page.wait_for_function(
        "() => /\\bdefault\\s*\\n\\s*Add\\b/.test(document.querySelector('main').innerText)"
    )
    page.wait_for_load_state("networkidle")


def _refuses_a_password_in_source(
    page: Any, ui: str, deployment_id: str, screens: Screens, secrets: list[str]
) -> None:
    """A `source` with a password is refused with a message that does not quote it (the form's own check of the
    schema, and at times the server's `Validation failed for field 'source'` too), and no run is created."""
    source = page.locator("main").get_by_text(re.compile(r"^source( \(Optional\))?$")).first
    field = source.locator("xpath=following::textarea[1]")
    password = secrets[-1]
    field.fill(f"postgresql://postgres:{password}@127.0.0.1:5432/test")
    page.get_by_role("button", name="Submit").click()
    refusal = page.get_by_text(re.compile("without a password")).first
    refusal.wait_for(timeout=30_000)
    screens.save(page, "ui-run-form-password-refused")
    shown = page.locator("body").inner_text()
    assert password not in shown  # the text on screen (the field itself holds what was typed)
    runs = httpx.post(
        f"{ui}/api/flow_runs/filter",
        json={"flow_runs": {"deployment_id": {"any_": [deployment_id]}}},
        timeout=10,
    ).json()
    assert runs == []


def _assert_flat_form(deployment: dict[str, Any]) -> None:
    """Every parameter of a deployment is one typed field with a default (or the deployment's value) and a
    description: no nested model, no `X | None` toggle, no null default the UI's own validation refuses, and
    the credentials are a block reference set by the deployment."""
    schema = deployment["parameter_openapi_schema"]
    where = deployment["name"]
    for name, prop in schema["properties"].items():
        assert prop.get("description"), f"{where}: {name} has no description"
        assert "anyOf" not in prop and "oneOf" not in prop, f"{where}: {name} is a choice of types"
        if "$ref" in prop:
            definition = schema["definitions"][prop["$ref"].rsplit("/", 1)[-1]]
            assert "block_type_slug" in definition, f"{where}: {name} is a nested object"
            assert name in deployment["parameters"], f"{where}: block parameter {name} is not set"
        else:
            assert prop.get("type") in {"string", "integer", "number", "boolean", "array"}, (where, name)
            assert prop.get("default", "") is not None, f"{where}: {name} defaults to null"
    assert "credentials" in deployment["parameters"], where


def _check_the_block_catalog(page: Any, ui: str, screens: Screens, secrets: list[str]) -> None:
    """Blocks > Catalog > Instantly Credentials: the `.load("NAME")` example, the documentation link, the logo."""
    page.goto(f"{ui}/v2/blocks/catalog/instantly-credentials")
    page.get_by_text('InstantlyCredentials.load("default")').first.wait_for()
    assert page.get_by_role("link", name="Documentation").first.get_attribute("href") == (
        "https://developer.instantly.ai/"
    )
    logo = page.locator("img[src$='/blocks/logos/instantly-credentials.svg']").first
    logo.wait_for()
    assert logo.evaluate("img => img.complete && img.naturalWidth > 0"), "the block logo did not load"
    _assert_no_secret(page, secrets, "the block catalog")
    screens.save(page, "ui-block-catalog")


def _check_the_run_page(page: Any, ui: str, run_id: str, screens: Screens, secrets: list[str]) -> None:
    """The finished run's page: the per-campaign log line, the artifacts, the parameters; no secret."""
    page.goto(f"{ui}/v2/runs/flow-run/{run_id}")
    page.wait_for_load_state("networkidle")
    screens.save(page, "ui-run-logs")
    page.get_by_text("-> campaign 'UI check'", exact=False).first.wait_for(timeout=60_000)
    _assert_no_secret(page, secrets, "the run's logs")
    screens.save(page, "ui-run-logs")
    page.get_by_role("tab", name="Artifacts").click()
    page.get_by_text("push-summary").first.wait_for()
    _assert_no_secret(page, secrets, "the run's artifacts")
    screens.save(page, "ui-run-artifacts")
    page.get_by_role("tab", name="Parameters").click()
    page.wait_for_load_state("networkidle")
    _assert_no_secret(page, secrets, "the run's parameters")
    screens.save(page, "ui-run-parameters")
