"""MLflow 3 webhooks through the stock client: create/list/get/update/delete/test, registry
events delivered with MLflow's envelope and a signature MLflow's own signing function
reproduces, retries of a failed delivery, and MLflow's error codes for bad input.

The receiver is a local HTTP server, so the server under test must allow plain http and
loopback URLs, which both MLflow and Cairn refuse by default (SSRF): this module sets
MLflow's own switches for the session's server. ``MLFLOW_WEBHOOK_CACHE_TTL=0`` keeps the
reference server from answering an event with a webhook list cached before the test made
its webhook (Cairn reads the table on each event).
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "http,https")
os.environ.setdefault("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
os.environ.setdefault("MLFLOW_WEBHOOK_CACHE_TTL", "0")

import pytest  # noqa: E402
import requests  # noqa: E402
from mlflow.entities.webhook import WebhookEvent, WebhookStatus  # noqa: E402
from mlflow.webhooks.delivery import _generate_hmac_signature  # noqa: E402

from compat_helpers import assert_json_error, raises_mlflow  # noqa: E402


class Receiver:
    """Records every POST; answers each with the next queued status (200 when none)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body.decode()})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"received")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_for(self, count: int, path: str, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                got = [r for r in self.requests if r["path"] == path]
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.1)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def verify(request: dict, secret: str) -> dict:
    """Checks the delivery's headers and signature as a receiver following MLflow's docs
    would, with MLflow's own signing function; returns the parsed body."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["content-type"] == "application/json"
    delivery_id = headers["x-mlflow-delivery-id"]
    timestamp = headers["x-mlflow-timestamp"]
    assert abs(int(timestamp) - time.time()) < 300
    expected = _generate_hmac_signature(secret, delivery_id, timestamp, request["body"])
    assert headers["x-mlflow-signature"] == expected
    return json.loads(request["body"])


def test_crud_round_trip(client, unique, receiver, api):
    name = f"hook-{unique}"
    created = client.create_webhook(
        name=name, url=f"{receiver.url}/crud", events=["model_version.created", "model_version_alias.created"],
        description="first", secret="s3cret")
    assert created.name == name
    assert created.url == f"{receiver.url}/crud"
    assert [str(e) for e in created.events] == ["model_version.created", "model_version_alias.created"]
    assert created.status == WebhookStatus.ACTIVE
    assert created.description == "first"
    assert created.creation_timestamp == created.last_updated_timestamp > 0

    fetched = client.get_webhook(created.webhook_id)
    assert fetched.webhook_id == created.webhook_id
    assert [str(e) for e in fetched.events] == ["model_version.created", "model_version_alias.created"]
    # The secret is never sent back.
    raw = requests.get(f"{api}/webhooks/{created.webhook_id}", timeout=10).json()
    assert "secret" not in json.dumps(raw)
    assert raw["webhook"]["events"][0] == {"entity": "MODEL_VERSION", "action": "CREATED"}
    assert raw["webhook"]["status"] == "ACTIVE"

    second = client.create_webhook(name=f"{name}-2", url=f"{receiver.url}/crud", events=["registered_model.created"],
                                   status="DISABLED")
    assert second.status == WebhookStatus.DISABLED
    # Newest first, paged.
    page = client.list_webhooks(max_results=1)
    assert [w.webhook_id for w in page] == [second.webhook_id]
    assert page.token
    rest = client.list_webhooks(max_results=1, page_token=page.token)
    assert [w.webhook_id for w in rest] == [created.webhook_id]
    listed = [w.webhook_id for w in client.list_webhooks(max_results=1000)]
    assert listed.index(second.webhook_id) < listed.index(created.webhook_id)

    updated = client.update_webhook(created.webhook_id, description="second", status="DISABLED",
                                    events=["model_version_tag.set"])
    assert updated.description == "second"
    assert updated.status == WebhookStatus.DISABLED
    assert [str(e) for e in updated.events] == ["model_version_tag.set"]
    assert updated.name == name
    assert updated.last_updated_timestamp >= updated.creation_timestamp

    client.delete_webhook(created.webhook_id)
    client.delete_webhook(second.webhook_id)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_webhook(created.webhook_id)
    assert created.webhook_id not in [w.webhook_id for w in client.list_webhooks(max_results=1000)]


def test_test_webhook_sends_the_example_payload_signed(client, unique, receiver):
    hook = client.create_webhook(name=f"t-{unique}", url=f"{receiver.url}/test", events=["model_version.created"],
                                 secret="abc")
    result = client.test_webhook(hook.webhook_id)
    assert result.success is True
    assert result.response_status == 200
    assert result.response_body == "received"
    assert result.error_message is None
    body = verify(receiver.wait_for(1, "/test")[0], "abc")
    assert body["entity"] == "model_version"
    assert body["action"] == "created"
    assert body["data"] == {"name": "example_model", "version": "1", "source": "models:/123",
                            "run_id": "abcd1234abcd5678", "tags": {"example_key": "example_value"},
                            "description": "An example model version"}

    # A named event; a receiver answering 500 is a failed test, with its status.
    receiver.statuses = [500] * 10
    result = client.test_webhook(hook.webhook_id, event=WebhookEvent.from_str("model_version_alias.created"))
    assert result.success is False
    assert result.response_status == 500
    got = receiver.wait_for(2, "/test")
    alias = json.loads(got[-1]["body"])
    assert (alias["entity"], alias["action"]) == ("model_version_alias", "created")
    assert alias["data"] == {"name": "example_model", "alias": "example_alias", "version": "1"}
    client.delete_webhook(hook.webhook_id)


def test_registry_events_are_delivered_signed(client, unique, receiver):
    model = f"wh-model-{unique}"
    hook = client.create_webhook(
        name=f"r-{unique}", url=f"{receiver.url}/events",
        events=["registered_model.created", "model_version.created", "model_version_tag.set",
                "model_version_alias.created", "model_version_alias.deleted"],
        secret="k3y")
    off = client.create_webhook(name=f"off-{unique}", url=f"{receiver.url}/disabled",
                                events=["registered_model.created"], status="DISABLED")
    try:
        client.create_registered_model(model, tags={"team": "ml"})
        client.create_model_version(model, source="s3://bucket/model", tags={"k": "v"}, description="v1")
        client.set_model_version_tag(model, "1", "stage", "ok")
        client.set_registered_model_alias(model, "champion", "1")
        client.delete_registered_model_alias(model, "champion")
        got = receiver.wait_for(5, "/events")
        bodies = [verify(r, "k3y") for r in got]
        ours = [b for b in bodies if b["data"].get("name") == model]
        by_event = {f'{b["entity"]}.{b["action"]}': b for b in ours}
        assert set(by_event) == {"registered_model.created", "model_version.created", "model_version_tag.set",
                                 "model_version_alias.created", "model_version_alias.deleted"}
        assert by_event["registered_model.created"]["data"] == {"name": model, "tags": {"team": "ml"}, "description": ""}
        created = by_event["model_version.created"]["data"]
        assert (created["version"], created["tags"], created["description"], created["run_id"]) == ("1", {"k": "v"}, "v1", None)
        assert created["source"] == "s3://bucket/model"
        assert by_event["model_version_tag.set"]["data"] == {"name": model, "version": "1", "key": "stage", "value": "ok"}
        assert by_event["model_version_alias.created"]["data"] == {"name": model, "alias": "champion", "version": "1"}
        assert by_event["model_version_alias.deleted"]["data"] == {"name": model, "alias": "champion"}
        assert all(isinstance(b["timestamp"], str) and b["timestamp"].endswith("+00:00") for b in ours)
        # A failed write announces nothing: the same model again is refused.
        with raises_mlflow("RESOURCE_ALREADY_EXISTS"):
            client.create_registered_model(model)
        time.sleep(2)
        assert len([r for r in receiver.requests if json.loads(r["body"])["data"].get("name") == model
                    and r["path"] == "/events"]) == 5
        assert receiver.wait_for(1, "/disabled", timeout=0) == []
    finally:
        client.delete_webhook(hook.webhook_id)
        client.delete_webhook(off.webhook_id)


def test_a_failed_delivery_is_retried_with_the_same_delivery_id(client, unique, receiver):
    model = f"retry-{unique}"
    hook = client.create_webhook(name=f"retry-{unique}", url=f"{receiver.url}/retry",
                                 events=["registered_model.created"], secret="x")
    receiver.statuses = [503]
    try:
        client.create_registered_model(model)
        got = receiver.wait_for(2, "/retry")
        assert len(got) == 2
        first, second = (verify(r, "x") for r in got)
        # The same body, its timestamp (when the event happened) included, as MLflow's retries
        # resend theirs; only the signed X-MLflow-Timestamp header is the attempt's.
        assert first == second
        ids = [{k.lower(): v for k, v in r["headers"].items()}["x-mlflow-delivery-id"] for r in got]
        assert ids[0] == ids[1]
    finally:
        client.delete_webhook(hook.webhook_id)


@pytest.mark.parametrize("body,code", [
    ({"name": "a", "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]}, "INVALID_PARAMETER_VALUE"),
    ({"url": "http://127.0.0.1:9/x", "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]}, "INVALID_PARAMETER_VALUE"),
    ({"name": "a", "url": "http://127.0.0.1:9/x"}, "INVALID_PARAMETER_VALUE"),
    ({"name": "a", "url": "http://127.0.0.1:9/x", "events": []}, "INVALID_PARAMETER_VALUE"),
    ({"name": "a", "url": "http://127.0.0.1:9/x", "events": [{"entity": "REGISTERED_MODEL", "action": "DELETED"}]},
     "INVALID_PARAMETER_VALUE"),
    ({"name": "-a", "url": "http://127.0.0.1:9/x", "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]},
     "INVALID_PARAMETER_VALUE"),
    ({"name": "a", "url": "ftp://127.0.0.1:9/x", "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]},
     "INVALID_PARAMETER_VALUE"),
    ({"name": "a", "url": "http:///x", "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]},
     "INVALID_PARAMETER_VALUE"),
    ({"name": "a", "url": 5, "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]}, "INVALID_PARAMETER_VALUE"),
    ({"name": "a", "url": "http://127.0.0.1:9/x", "events": "x"}, "INVALID_PARAMETER_VALUE"),
], ids=["missing-url", "missing-name", "missing-events", "empty-events", "invalid-pair", "bad-name", "bad-scheme",
        "no-host", "url-not-string", "events-not-list"])
def test_create_errors_match_mlflow(api, body, code):
    assert_json_error(requests.post(f"{api}/webhooks", json=body, timeout=10), 400, code)


def test_unknown_ids_and_bad_listing_match_mlflow(api, client):
    for method, path in (("get", "nope"), ("patch", "nope"), ("delete", "nope"), ("post", "nope/test")):
        resp = requests.request(method, f"{api}/webhooks/{path}", json={} if method != "get" else None, timeout=10)
        assert_json_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")
    assert_json_error(requests.get(f"{api}/webhooks", params={"max_results": 1001}, timeout=10), 400,
                      "INVALID_PARAMETER_VALUE")
    assert_json_error(requests.get(f"{api}/webhooks", params={"page_token": "zz"}, timeout=10), 400,
                      "INVALID_PARAMETER_VALUE")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_webhook("does-not-exist")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_webhook(name="x", url="ftp://example.com", events=["model_version.created"])


def test_update_errors_match_mlflow(api, client, unique, receiver):
    hook = client.create_webhook(name=f"u-{unique}", url=f"{receiver.url}/u", events=["model_version.created"])
    try:
        assert_json_error(requests.patch(f"{api}/webhooks/{hook.webhook_id}", json={"url": "ftp://x"}, timeout=10),
                          400, "INVALID_PARAMETER_VALUE")
        assert_json_error(requests.patch(f"{api}/webhooks/{hook.webhook_id}", json={"name": "bad name"}, timeout=10),
                          400, "INVALID_PARAMETER_VALUE")
        # An empty event list leaves the events as they were, as in MLflow.
        same = requests.patch(f"{api}/webhooks/{hook.webhook_id}", json={"events": []}, timeout=10)
        assert same.status_code == 200
        assert same.json()["webhook"]["events"] == [{"entity": "MODEL_VERSION", "action": "CREATED"}]
    finally:
        client.delete_webhook(hook.webhook_id)


@pytest.mark.cairn_only  # MLflow accepts prompt events; Cairn has no prompt registry and refuses them
def test_events_cairn_never_emits_are_refused(api):
    resp = requests.post(f"{api}/webhooks", json={"name": "p", "url": "http://127.0.0.1:9/x",
                                                  "events": [{"entity": "PROMPT", "action": "CREATED"}]}, timeout=10)
    body = assert_json_error(resp, 400, "INVALID_PARAMETER_VALUE")
    assert "not supported" in body["message"]
    # A name that is no event is a 400, where MLflow's server answers a bare 500.
    resp = requests.post(f"{api}/webhooks", json={"name": "p", "url": "http://127.0.0.1:9/x",
                                                  "events": [{"entity": "NOPE", "action": "CREATED"}]}, timeout=10)
    assert_json_error(resp, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.cairn_only  # MLflow refuses too, as 400 BAD_REQUEST carrying its SQL IntegrityError text
def test_duplicate_events_are_refused(api, client, unique, receiver):
    twice = [{"entity": "MODEL_VERSION", "action": "CREATED"}, {"entity": "MODEL_VERSION", "action": "CREATED"}]
    resp = requests.post(f"{api}/webhooks", json={"name": f"d-{unique}", "url": f"{receiver.url}/d", "events": twice},
                         timeout=10)
    body = assert_json_error(resp, 400, "INVALID_PARAMETER_VALUE")
    assert "model_version.created is listed more than once" in body["message"]
    assert all(hook.name != f"d-{unique}" for hook in client.list_webhooks())
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_webhook(name=f"d-{unique}", url=f"{receiver.url}/d",
                              events=["model_version.created", "model_version.created"])
    hook = client.create_webhook(name=f"d-{unique}", url=f"{receiver.url}/d", events=["model_version.created"])
    try:
        resp = requests.patch(f"{api}/webhooks/{hook.webhook_id}", json={"events": twice}, timeout=10)
        assert_json_error(resp, 400, "INVALID_PARAMETER_VALUE")
        assert [(e.entity, e.action) for e in client.get_webhook(hook.webhook_id).events] == \
            [(e.entity, e.action) for e in hook.events]
    finally:
        client.delete_webhook(hook.webhook_id)

