"""S3 artifact storage: the server under test with ``--artifacts-destination s3://bucket/prefix``
against a real S3 API server on loopback (moto's standalone server, pinned in
requirements.txt), driven by the stock ``mlflow`` client and read back with boto3 as an
independent client.

Each test module run starts its own moto server (``COMPAT_MOTO_PYTHON`` names an interpreter
that has moto when the suite's own does not) and its own tracking server pointed at it;
``COMPAT_SERVER=mlflow`` runs the same tests against ``mlflow server`` (which needs boto3).
Credentials are moto's dummies, except in the signature test, which turns moto's request
authentication on so that every request Cairn signs is checked by botocore's own SigV4 code.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

import mlflow  # noqa: E402
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from conftest import REPO_ROOT, SERVER_KIND, _free_port, _stop, _tail  # noqa: E402

MOTO_PYTHON = os.environ.get("COMPAT_MOTO_PYTHON", sys.executable)
BUCKET = "cairn-compat"
PREFIX = "team/artifacts"
DUMMY = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


def _wait_http(url: str, proc: subprocess.Popen, log: Path, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with code {proc.returncode} during startup:\n{_tail(log, 60)}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer at {url}:\n{_tail(log, 60)}")
        time.sleep(0.2)


@dataclass
class Moto:
    url: str
    proc: subprocess.Popen

    def s3(self, **credentials):
        keys = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}), **keys)

    def iam(self):
        return boto3.client("iam", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def authentication(self, free_actions: float) -> None:
        """Moto checks signatures (and IAM policies) after this many more actions."""
        requests.post(f"{self.url}/moto-api/reset-auth", data=str(free_actions).encode(), timeout=5).raise_for_status()


def _start_moto(tmp: Path) -> Moto:
    port = _free_port()
    log = tmp / f"moto-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([MOTO_PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    moto = Moto(f"http://127.0.0.1:{port}", proc)
    _wait_http(moto.url + "/moto-api/", proc, log, "moto")
    return moto


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path


def _server_command(port: int, data_dir: Path, destination: str) -> list[str]:
    if SERVER_KIND == "cairn":
        binary = Path(os.environ.get("CAIRN_BIN", ".build/debug/cairn"))
        if not binary.is_absolute():
            binary = REPO_ROOT / binary
        return [str(binary), "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
                "--artifacts-destination", destination]
    return [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{data_dir}/mlflow.db", "--artifacts-destination", destination,
            "--workers", "1"]


def _launch(moto: Moto, destination: str, data_dir: Path, extra_env: dict | None = None):
    port = _free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    env.update(DUMMY)
    env["MLFLOW_S3_ENDPOINT_URL"] = moto.url
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    env.update(extra_env or {})
    log = data_dir / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(_server_command(port, data_dir, destination), cwd=data_dir, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    return Server(f"http://127.0.0.1:{port}", proc, log)


def _start_server(moto: Moto, destination: str, data_dir: Path, extra_env: dict | None = None) -> Server:
    server = _launch(moto, destination, data_dir, extra_env)
    _wait_http(server.url + "/health", server.proc, server.log, "tracking server", timeout=180)
    return server


@pytest.fixture(scope="module")
def scratch():
    path = Path(tempfile.mkdtemp(prefix="compat-s3-"))
    yield path
    if os.environ.get("COMPAT_KEEP_DATA") != "1":
        import shutil
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def moto(scratch):
    moto = _start_moto(scratch)
    moto.s3().create_bucket(Bucket=BUCKET)
    yield moto
    _stop(moto.proc)


@pytest.fixture(scope="module")
def s3_server(moto, scratch):
    server = _start_server(moto, f"s3://{BUCKET}/{PREFIX}", scratch / "server")
    yield server
    _stop(server.proc)


@pytest.fixture
def s3_client(s3_server):
    return MlflowClient(tracking_uri=s3_server.url)


@pytest.fixture
def s3_run(s3_client):
    experiment = s3_client.create_experiment(f"s3-{uuid.uuid4().hex[:10]}")
    return s3_client.create_run(experiment)


def _key(run, path: str) -> str:
    """The object key of an artifact of `run`: the destination's prefix plus mlflow-artifacts:/P."""
    uri = run.info.artifact_uri
    assert uri.startswith("mlflow-artifacts:"), uri
    relative = uri[len("mlflow-artifacts:"):].lstrip("/")
    return f"{PREFIX}/{relative}/{path}"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file(path: Path, size: int, seed: int = 0) -> bytes:
    """`size` pseudo-random bytes written to `path` (random enough that no layer can compress them)."""
    data = hashlib.shake_256(f"{seed}:{size}".encode()).digest(size) if size <= 1 << 20 else os.urandom(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def _sdk_body(moto: Moto, key: str) -> bytes:
    return moto.s3().get_object(Bucket=BUCKET, Key=key)["Body"].read()


def _keys(moto: Moto, prefix: str) -> list[str]:
    pages = moto.s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def test_artifacts_round_trip_byte_identical_through_the_bucket(s3_client, s3_run, moto, tmp_path):
    source = tmp_path / "out"
    files = {
        "model/MLmodel": _file(source / "model" / "MLmodel", 300, 1),
        "model/weights.bin": _file(source / "model" / "weights.bin", 3 << 20, 2),
        "data/nested/deep/table.csv": _file(source / "data" / "nested" / "deep" / "table.csv", 70_001, 3),
        "notes with space & plus+.txt": _file(source / "notes with space & plus+.txt", 17, 4),
        "empty.txt": _file(source / "empty.txt", 0, 5),
    }
    run_id = s3_run.info.run_id
    s3_client.log_artifacts(run_id, str(source))

    # boto3, an independent client, finds exactly these objects with exactly these bytes.
    assert _keys(moto, _key(s3_run, "")) == sorted(_key(s3_run, p) for p in files)
    for path, data in files.items():
        assert _sha(_sdk_body(moto, _key(s3_run, path))) == _sha(data), path

    # The stock client lists (directories without sizes) and downloads them back.
    listing = {f.path: f for f in s3_client.list_artifacts(run_id)}
    assert sorted(listing) == ["data", "empty.txt", "model", "notes with space & plus+.txt"]
    assert listing["model"].is_dir and listing["model"].file_size is None
    assert listing["notes with space & plus+.txt"].file_size == 17
    assert [(f.path, f.file_size) for f in s3_client.list_artifacts(run_id, "model")] == [
        ("model/MLmodel", 300), ("model/weights.bin", 3 << 20)]
    assert s3_client.list_artifacts(run_id, "missing") == []
    back = Path(s3_client.download_artifacts(run_id, "", str(tmp_path / "back")))
    for path, data in files.items():
        assert _sha((back / path).read_bytes()) == _sha(data), path


def test_objects_written_by_another_client_are_listed_and_downloaded(s3_client, s3_run, moto, tmp_path):
    """Listing pages through continuation tokens (over 1000 keys) and sorts names."""
    s3 = moto.s3()
    names = [f"f{i:05d}.txt" for i in range(1003)]

    def put(name):
        s3.put_object(Bucket=BUCKET, Key=_key(s3_run, f"many/{name}"), Body=name.encode())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, names))
    s3.put_object(Bucket=BUCKET, Key=_key(s3_run, "many/sub/inner.txt"), Body=b"inner")
    listed = s3_client.list_artifacts(s3_run.info.run_id, "many")
    assert [f.path for f in listed] == [f"many/{n}" for n in names] + ["many/sub"]
    assert all(f.file_size == 10 for f in listed[:-1])
    got = s3_client.download_artifacts(s3_run.info.run_id, "many/f01002.txt", str(tmp_path))
    assert Path(got).read_bytes() == b"f01002.txt"


def test_a_large_upload_streams_through_s3_multipart(s3_client, s3_run, moto, tmp_path):
    """A 20 MiB PUT through the proxy reaches S3 as a multipart upload of 8 MiB parts."""
    data = _file(tmp_path / "big.bin", 20 << 20)
    s3_client.log_artifact(s3_run.info.run_id, str(tmp_path / "big.bin"))
    key = _key(s3_run, "big.bin")
    assert _sha(_sdk_body(moto, key)) == _sha(data)
    if SERVER_KIND == "cairn":
        # An object assembled from parts carries "-<part count>" in its ETag.
        assert moto.s3().head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"').endswith("-3")
    back = s3_client.download_artifacts(s3_run.info.run_id, "big.bin", str(tmp_path / "back"))
    assert _sha(Path(back).read_bytes()) == _sha(data)


def test_mlflow_multipart_upload_sends_parts_straight_to_the_bucket(s3_client, s3_run, s3_server, moto, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1 << 20))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 << 20))
    data = _file(tmp_path / "parts.bin", (12 << 20) + 123)

    # What create answers: S3's upload id and presigned URLs on the bucket's endpoint.
    directory = s3_run.info.artifact_uri[len("mlflow-artifacts:"):].lstrip("/")
    create = requests.post(f"{s3_server.url}/api/2.0/mlflow-artifacts/mpu/create/{directory}",
                           json={"path": "probe.bin", "num_parts": 2}, timeout=30)
    assert create.status_code == 200, create.text
    body = create.json()
    assert [c["part_number"] for c in body["credentials"]] == [1, 2]
    for credential in body["credentials"]:
        assert credential["url"].startswith(moto.url + "/"), credential["url"]
        assert "X-Amz-Signature=" in credential["url"] and "uploadId=" in credential["url"]
    uploads = moto.s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert [u["UploadId"] for u in uploads if u["Key"] == _key(s3_run, "probe.bin")] == [body["upload_id"]]
    abort = requests.post(f"{s3_server.url}/api/2.0/mlflow-artifacts/mpu/abort/{directory}",
                          json={"path": "probe.bin", "upload_id": body["upload_id"]}, timeout=30)
    assert abort.status_code == 200, abort.text
    assert not [u for u in moto.s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
                if u["Key"] == _key(s3_run, "probe.bin")]

    # The stock client's whole multipart flow: three parts PUT to the bucket, then complete.
    s3_client.log_artifact(s3_run.info.run_id, str(tmp_path / "parts.bin"), "mp")
    key = _key(s3_run, "mp/parts.bin")
    assert _sha(_sdk_body(moto, key)) == _sha(data)
    assert moto.s3().head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"').endswith("-3")


def test_delete_removes_every_object_below_the_path(s3_server, s3_client, s3_run, moto, tmp_path):
    source = tmp_path / "tree"
    for name in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        _file(source / name, 100)
    _file(tmp_path / "keep.txt", 10)
    s3_client.log_artifacts(s3_run.info.run_id, str(source), "tree")
    s3_client.log_artifact(s3_run.info.run_id, str(tmp_path / "keep.txt"))
    repository = get_artifact_repository(
        s3_run.info.artifact_uri.replace("mlflow-artifacts:", f"mlflow-artifacts://{s3_server.url[len('http://'):]}"))
    repository.delete_artifacts("tree")
    assert _keys(moto, _key(s3_run, "")) == [_key(s3_run, "keep.txt")]
    assert [f.path for f in s3_client.list_artifacts(s3_run.info.run_id)] == ["keep.txt"]


def test_downloads_are_presigned_and_proxied(s3_server, s3_client, s3_run, moto, tmp_path, monkeypatch):
    """The server advertises presigned downloads, as MLflow's does for S3; the client then
    fetches ranges straight from the bucket. Downloads through the server work too."""
    info = requests.get(f"{s3_server.url}/api/3.0/mlflow/server-info", timeout=30).json()
    assert info["multipart_downloads_enabled"] is True and info["multipart_uploads_enabled"] is True
    data = _file(tmp_path / "d.bin", (3 << 20) + 5)
    s3_client.log_artifact(s3_run.info.run_id, str(tmp_path / "d.bin"))
    directory = s3_run.info.artifact_uri[len("mlflow-artifacts:"):].lstrip("/")
    presigned = requests.get(f"{s3_server.url}/api/2.0/mlflow-artifacts/presigned/{directory}/d.bin", timeout=30)
    assert presigned.status_code == 200, presigned.text
    body = presigned.json()
    assert body["file_size"] == len(data) and body["url"].startswith(moto.url + "/")
    ranged = requests.get(body["url"], headers={**body["headers"], "Range": "bytes=10-19"}, timeout=30)
    assert ranged.status_code == 206 and ranged.content == data[10:20]
    missing = requests.get(f"{s3_server.url}/api/2.0/mlflow-artifacts/presigned/{directory}/nope.bin", timeout=30)
    assert missing.status_code == 404, missing.text
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(1 << 20))
    back = s3_client.download_artifacts(s3_run.info.run_id, "d.bin", str(tmp_path / "ranged"))
    assert _sha(Path(back).read_bytes()) == _sha(data)
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "false")
    back = s3_client.download_artifacts(s3_run.info.run_id, "d.bin", str(tmp_path / "proxied"))
    assert _sha(Path(back).read_bytes()) == _sha(data)
    whole = requests.get(f"{s3_server.url}/api/2.0/mlflow-artifacts/artifacts/{directory}/d.bin", timeout=30)
    assert whole.status_code == 200 and _sha(whole.content) == _sha(data)
    if SERVER_KIND == "cairn":  # MLflow streams the proxied download chunked, without a length.
        assert whole.headers["Content-Length"] == str(len(data))


@pytest.mark.cairn_only  # MLflow answers a missing S3 object with a 500 INTERNAL_ERROR.
def test_missing_artifact_is_resource_does_not_exist(s3_server, s3_run):
    directory = s3_run.info.artifact_uri[len("mlflow-artifacts:"):].lstrip("/")
    response = requests.get(f"{s3_server.url}/api/2.0/mlflow-artifacts/artifacts/{directory}/nope.txt", timeout=30)
    assert response.status_code == 404, response.text
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def _interrupted_put(server_url: str, path: str, declared: int, sent: int) -> None:
    """Declares `declared` bytes, sends `sent`, and drops the connection."""
    host, port = server_url[len("http://"):].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall((f"PUT /api/2.0/mlflow-artifacts/artifacts/{path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      f"Content-Length: {declared}\r\nContent-Type: application/octet-stream\r\n\r\n").encode())
        chunk = os.urandom(1 << 20)
        for offset in range(0, sent, len(chunk)):
            sock.sendall(chunk[: min(len(chunk), sent - offset)])


@pytest.mark.cairn_only  # MLflow spools the body to a local file first; the part uploads are Cairn's.
def test_an_interrupted_upload_leaves_no_object_and_no_parts(s3_server, s3_run, moto):
    directory = s3_run.info.artifact_uri[len("mlflow-artifacts:"):].lstrip("/")
    # 18 MiB of 30: two 8 MiB parts have gone to S3 when the connection drops.
    _interrupted_put(s3_server.url, f"{directory}/cut.bin", 30 << 20, 18 << 20)
    key = _key(s3_run, "cut.bin")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pending = [u for u in moto.s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) if u["Key"] == key]
        if not pending:
            break
        time.sleep(0.2)
    assert not pending, "the multipart upload of an interrupted body was not aborted"
    with pytest.raises(ClientError) as info:
        moto.s3().head_object(Bucket=BUCKET, Key=key)
    assert info.value.response["Error"]["Code"] in ("404", "NoSuchKey")
    # The server is still fine.
    assert requests.get(f"{s3_server.url}/health", timeout=10).status_code == 200


@pytest.mark.cairn_only  # MLflow does not check its artifact store at start-up.
def test_a_missing_bucket_stops_startup_with_a_clear_message(moto, scratch):
    server = _launch(moto, "s3://no-such-bucket/x", scratch / "nobucket")
    try:
        assert server.proc.wait(timeout=60) != 0
    finally:
        _stop(server.proc)
    log = server.log.read_text()
    assert "no-such-bucket" in log and "does not exist" in log, log


@pytest.mark.cairn_only  # MLflow answers a store failure with a bare 500.
def test_a_bucket_gone_after_startup_is_a_clear_error(moto, scratch):
    bucket = f"gone-{uuid.uuid4().hex[:8]}"
    moto.s3().create_bucket(Bucket=bucket)
    server = _start_server(moto, f"s3://{bucket}", scratch / "gone")
    try:
        moto.s3().delete_bucket(Bucket=bucket)
        put = requests.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/x.txt", data=b"x", timeout=30)
        assert put.status_code == 404, put.text
        assert put.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        assert bucket in put.json()["message"]
        listing = requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": "1"}, timeout=30)
        assert listing.status_code == 404 and listing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST", listing.text
    finally:
        _stop(server.proc)


@pytest.mark.cairn_only  # MLflow answers a store failure with a bare 500.
def test_an_unreachable_store_is_503_and_recovers(scratch):
    own = _start_moto(scratch)
    try:
        own.s3().create_bucket(Bucket="flaky")
        server = _start_server(own, "s3://flaky/p", scratch / "flaky")
        try:
            _stop(own.proc)
            listing = requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": "1"}, timeout=60)
            assert listing.status_code == 503, listing.text
            assert listing.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
            assert "unreachable" in listing.json()["message"]
        finally:
            _stop(server.proc)
    finally:
        _stop(own.proc)


@pytest.mark.cairn_only  # Checks Cairn's own SigV4 code; MLflow's is boto3's.
def test_moto_verifies_every_signature(moto, scratch, tmp_path):
    """With moto's authentication on, each request is checked by botocore's SigV4 code: the
    server works with the right secret (HeadBucket, PutObject, a multipart upload,
    HeadObject, GetObject), and refuses to start with a wrong one."""
    iam = moto.iam()
    bucket = f"signed-{uuid.uuid4().hex[:8]}"
    moto.s3().create_bucket(Bucket=bucket)
    user = f"cairn-{uuid.uuid4().hex[:6]}"
    # Three more free actions (these IAM calls); every request after them is verified.
    moto.authentication(3)
    try:
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        credentials = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        server = _start_server(moto, f"s3://{bucket}/signed", scratch / "signed", credentials)
        try:
            client = MlflowClient(tracking_uri=server.url)
            run = client.create_run(client.create_experiment(f"signed-{uuid.uuid4().hex[:6]}"))
            data = _file(tmp_path / "x.bin", 9 << 20)  # over one 8 MiB part: a multipart upload
            client.log_artifact(run.info.run_id, str(tmp_path / "x.bin"))
            small = _file(tmp_path / "small.txt", 10)
            client.log_artifact(run.info.run_id, str(tmp_path / "small.txt"), "dir")
            # Downloads by plain GET (HeadObject, GetObject): moto's verifier miscomputes the
            # signature of any GET with a query string, so ListObjectsV2 cannot be checked here.
            directory = run.info.artifact_uri[len("mlflow-artifacts:"):].lstrip("/")
            for path, expected in (("x.bin", data), ("dir/small.txt", small)):
                got = requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{directory}/{path}", timeout=60)
                assert got.status_code == 200, got.text
                assert _sha(got.content) == _sha(expected), path
        finally:
            _stop(server.proc)
        wrong = dict(credentials, AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"] + "x")
        refused = _launch(moto, f"s3://{bucket}/signed", scratch / "wrong", wrong)
        try:
            assert refused.proc.wait(timeout=60) != 0
        finally:
            _stop(refused.proc)
        log = refused.log.read_text()
        assert "SignatureDoesNotMatch" in log or "refused" in log, log
    finally:
        moto.authentication(float("inf"))
