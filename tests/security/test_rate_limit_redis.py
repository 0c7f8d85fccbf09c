"""With RATELIMIT_STORAGE_URI pointing at Redis, failed sign-ins are counted there, so every worker
and machine pointed at the same Redis shares one count.

Run in a child process: the rate limiter is one object per process, and pointing it at Redis here
would change it for every other test in this worker.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

CHILD = textwrap.dedent(
    """
    import json, sys, tempfile
    from pathlib import Path

    import redis

    from tests.conftest import csrf_token, make_test_app
    from tests.factories import make_user

    url, prefix = sys.argv[1], sys.argv[2]
    database = Path(tempfile.mkdtemp()) / "portal.db"
    app = make_test_app(f"sqlite:///{database}", RATELIMIT_STORAGE_URI=url, RATELIMIT_KEY_PREFIX=prefix)
    app.test_cli_runner().invoke(args=["db", "upgrade"])
    user = make_user(app.extensions["portal.db"]())
    statuses = []
    for _attempt in range(6):
        client = app.test_client()  # a new browser each time: only the account ties the attempts
        page = client.get("/sign-in")
        answer = client.post(
            "/sign-in", data={"csrf_token": csrf_token(page.text), "email": user.email, "password": "wrong"}
        )
        statuses.append(answer.status_code)
    store = redis.Redis.from_url(url)
    keys = list(store.scan_iter(f"*{prefix}*"))
    if keys:
        store.delete(*keys)
    print(json.dumps({"statuses": statuses, "keys": len(keys)}))
    """
)


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def test_failed_sign_ins_are_counted_across_workers_in_redis(tmp_path):
    if not redis_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Redis on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379 on this machine (CI requires it)")
    prefix = f"portal-test-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, "redis://127.0.0.1:6379/0", prefix],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PORTAL_INSTANCE_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # Five failures allowed per account; the sixth is refused, and the counts live in Redis.
    assert outcome["statuses"] == [200, 200, 200, 200, 200, 429]
    assert outcome["keys"] > 0
