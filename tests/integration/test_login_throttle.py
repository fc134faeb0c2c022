"""Login throttling that cannot be turned against us: it bounds guessing, tells nobody which names exist, and
never keeps the right password out of an address that is not the one guessing."""

from __future__ import annotations

import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from broadcast import create_app, load_settings
from broadcast.services import users
from tests.conftest import DEMO_PASSWORD

ATTACKER = "203.0.113.66"
PHEDUYET = "198.51.100.7"  # the real approver's office


def _login(app, username: str, password: str, address: str):
    client = app.test_client()
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was really checked (scrypt run), counted across threads."""
    checked, lock = [0], threading.Lock()
    check = users.check_password_timing_safe

    def counting(password_hash, password):
        with lock:
            checked[0] += 1
        return check(password_hash, password)

    monkeypatch.setattr(users, "check_password_timing_safe", counting)
    return checked


def _hammer(app, username: str, attempts: int, address: str = ATTACKER) -> list[int]:
    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return list(pool.map(lambda n: _login(app, username, f"guess-{n}-xyz", address).status_code,
                             range(attempts)))


def test_sixty_parallel_wrong_logins_get_no_more_password_checks_than_the_limit(seeded, password_checks):
    statuses = _hammer(seeded, "pheduyet", 60)
    limit = 5  # LOGIN_LIMIT_PER_ACCOUNT_ADDRESS: 5 per 15 minutes
    assert password_checks[0] <= limit
    assert statuses.count(401) == password_checks[0] and statuses.count(429) == 60 - password_checks[0]


def _seeded_app(settings):
    app = create_app(settings)
    app.config.update(TESTING=True)
    from broadcast.services import demo

    with app.app_context(), app.extensions["database"].sessions() as session:
        list(demo.seed(session))
    return app


@pytest.fixture
def redis_app(tmp_path, database):
    """The service with its counters in Redis (REDIS_URL), as several web nodes share them."""
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        from tests.services import unavailable

        unavailable(f"Redis at {url} is not reachable")
    channel = f"test:{secrets.token_hex(6)}"  # a run of its own: counters under a prefix nobody else uses
    app = _seeded_app(load_settings(instance_path=tmp_path / "instance", database_url=database.url,
                                    redis_url=url, redis_channel=channel))
    yield app
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{channel}*"):
        client.delete(key)
    app.extensions["database"].dispose()


def test_the_counters_in_redis_are_shared_and_atomic_too(redis_app, password_checks):
    """Two "nodes" (two apps on one Redis) count together: the 60 attempts are split between them."""
    other_node = create_app(redis_app.extensions["settings"])
    other_node.config.update(TESTING=True)
    try:
        with ThreadPoolExecutor(max_workers=60) as pool:
            statuses = list(pool.map(
                lambda n: _login(redis_app if n % 2 else other_node, "pheduyet", f"guess-{n}-xyz",
                                 ATTACKER).status_code, range(60)))
    finally:
        other_node.extensions["database"].dispose()
    assert password_checks[0] <= 5
    assert statuses.count(401) == password_checks[0] and statuses.count(429) == 60 - password_checks[0]
    assert _login(redis_app, "pheduyet", DEMO_PASSWORD, PHEDUYET).status_code == 200


def test_without_redis_logins_go_on_throttled_in_memory(tmp_path, database, password_checks):
    from tests.services import free_port

    app = _seeded_app(load_settings(instance_path=tmp_path / "instance", database_url=database.url,
                                    redis_url=f"redis://127.0.0.1:{free_port()}/0"))  # nobody listens there
    try:
        assert _hammer(app, "pheduyet", 20).count(401) <= 5 and password_checks[0] <= 5
        assert _login(app, "pheduyet", DEMO_PASSWORD, PHEDUYET).status_code == 200
    finally:
        app.extensions["database"].dispose()


def _answers(app, username: str, address: str) -> list[tuple]:
    answers = []
    for n in range(8):
        response = _login(app, username, f"guess-{n}-xyz", address)
        body = dict(response.json)
        body.pop("details", None)  # seconds to wait: the two windows may start a second apart
        body["message"] = re.sub(r"\d+", "N", body["message"])
        answers.append((response.status_code, sorted(response.headers.keys()), body))
    return answers


def test_a_known_and_an_unknown_name_get_identical_answers(seeded):
    known = _answers(seeded, "pheduyet", "192.0.2.1")
    unknown = _answers(seeded, "khong-co-ai", "192.0.2.2")
    assert known == unknown
    assert [status for status, _, _ in known] == [401] * 5 + [429] * 3


def test_the_right_password_from_another_address_gets_in_while_an_attacker_hammers(seeded):
    _hammer(seeded, "pheduyet", 40)
    # Many addresses together go beyond the account's own limit (LOGIN_LIMIT_PER_ACCOUNT: 30 per hour).
    for n in range(8):
        _hammer(seeded, "pheduyet", 5, address=f"203.0.113.{n + 1}")
    assert _login(seeded, "pheduyet", DEMO_PASSWORD, ATTACKER).status_code == 429  # the guesser waits
    assert _login(seeded, "pheduyet", DEMO_PASSWORD, PHEDUYET).status_code == 200  # the approver gets in
    # While the account is under attack, each new address has its first attempt checked, and no more.
    assert _login(seeded, "pheduyet", "one-wrong-guess", "192.0.2.9").status_code == 401
    assert _login(seeded, "pheduyet", DEMO_PASSWORD, "192.0.2.9").status_code == 429


def test_a_successful_login_starts_the_addresss_count_again(seeded):
    for _ in range(2):
        for n in range(4):
            assert _login(seeded, "vanhanh", f"typo-{n}-xyz", PHEDUYET).status_code == 401
        assert _login(seeded, "vanhanh", DEMO_PASSWORD, PHEDUYET).status_code == 200


def test_the_throttled_answer_says_when_to_retry(seeded):
    _hammer(seeded, "bientap", 6)
    response = _login(seeded, "bientap", DEMO_PASSWORD, ATTACKER)
    assert response.status_code == 429 and response.json["status"] == "throttled"
    wait = response.json["details"]["retry_after_s"]
    assert 0 < wait <= 15 * 60 and response.headers["Retry-After"] == str(wait)
    assert response.json["message"].startswith("Có quá nhiều lần đăng nhập")


def test_every_login_from_one_address_is_bounded(seeded, password_checks):
    """Trying many names from one address meets LOGIN_LIMIT_PER_ADDRESS (30 per minute)."""
    statuses = [_login(seeded, f"name-{n}", "guess-xyz-123", ATTACKER).status_code for n in range(40)]
    assert statuses == [401] * 30 + [429] * 10 and password_checks[0] == 30


def test_behind_a_proxy_each_client_is_counted_by_the_address_the_proxy_saw(tmp_path, database):
    """TRUSTED_PROXIES=1: the address nginx appended is the client's; one a client wrote itself is not."""
    app = _seeded_app(load_settings(instance_path=tmp_path / "instance", database_url=database.url,
                                    trusted_proxies=1))
    proxy = "10.0.0.1"

    def via_proxy(password: str, forwarded_for: str) -> int:
        return app.test_client().post("/api/v1/auth/login", json={"username": "pheduyet", "password": password},
                                      environ_base={"REMOTE_ADDR": proxy},
                                      headers={"X-Forwarded-For": forwarded_for}).status_code

    try:
        assert [via_proxy(f"guess-{n}-xyz", ATTACKER) for n in range(6)] == [401] * 5 + [429]
        # The attacker pretending to be the approver's office: the proxy appends the real address after it.
        assert via_proxy(DEMO_PASSWORD, f"{PHEDUYET}, {ATTACKER}") == 429
        assert via_proxy(DEMO_PASSWORD, PHEDUYET) == 200
    finally:
        app.extensions["database"].dispose()


@pytest.mark.parametrize("value", ["lots", "5 per fortnight", ""])
def test_a_bad_limit_setting_stops_start_up(tmp_path, value):
    from broadcast.config import ConfigError

    with pytest.raises(ConfigError, match="LOGIN_LIMIT_PER_ACCOUNT"):
        load_settings(instance_path=tmp_path, login_limit_per_account=value)
