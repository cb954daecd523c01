"""Small assertion helpers shared by the compatibility tests."""

from __future__ import annotations

import contextlib
import math
import time

import pytest
from mlflow.exceptions import MlflowException, RestException

# The reference SQL store clamps +/-inf to +/-DBL_MAX; the contract only requires >= 1.79e308.
HUGE = 1.79e308


def now_ms() -> int:
    return int(time.time() * 1000)


@contextlib.contextmanager
def raises_mlflow(error_code: str, exc_type: type = RestException):
    """Expect an ``MlflowException`` of exactly ``exc_type`` carrying ``error_code``.

    ``RestException`` means the server answered with a JSON error body that the client parsed;
    a few client methods (e.g. ``log_param``) re-wrap that into a plain ``MlflowException``
    that keeps the server's error code.
    """
    with pytest.raises(MlflowException) as info:
        yield info
    err = info.value
    assert type(err) is exc_type, f"expected {exc_type.__name__}, got {type(err).__name__}: {err}"
    assert err.error_code == error_code, f"expected {error_code}, got {err.error_code}: {err}"


def assert_json_error(resp, status: int, error_code: str) -> dict:
    """A wire-level error: HTTP status, JSON body with string error_code and message."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body, dict), body
    assert body.get("error_code") == error_code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


def is_huge(x: float, sign: int = 1) -> bool:
    """+inf / -inf as stored by a server (inf itself, or clamped to +/-DBL_MAX)."""
    return (x >= HUGE) if sign > 0 else (x <= -HUGE)


def is_nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def names(runs) -> list[str]:
    return [r.info.run_name for r in runs]
