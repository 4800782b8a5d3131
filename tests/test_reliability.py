"""No duplicate orders, ever: retries, rate limits, the circuit breaker, and runs killed at the worst moments.

The crash tests run the real command line as a subprocess against a sandbox
in this process, kill it (at named points and at random moments), run it
again on the same file, and then ask the sandbox how many orders each
external id produced. A quick subset runs by default; the full count is
marked ``slow``.
"""

import bisect
import itertools
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import hypothesis
import pandas as pd
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

import importer
from importer.errors import Transient
from importer.http import RateLimiter
from importer.models import Status
from importer.sandbox import Faults, Sandbox
from importer.submit.orders import RetryPolicy, call_with_retries

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SETTLED = {
    Status.CREATED,
    Status.ALREADY_CREATED,
    Status.CREATE_FAILED,
    Status.PREVIEW_FAILED,
    Status.INVALID,
    Status.HELD,
    Status.UNKNOWN,
}
NAMED_POINTS = ("after-sending", "after-create-response", "while-writing")


# ----- backoff, Retry-After and rate limits ------------------------------------------------


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap():
    waits = []
    policy = RetryPolicy(attempts=6, base_wait=0.5, max_wait=3.0, max_elapsed=1000, sleep=waits.append, rng=lambda: 1.0)
    calls = []

    def failing():
        calls.append(1)
        raise Transient("down", provider="p", endpoint="e")

    with pytest.raises(Transient):
        call_with_retries(failing, policy, retry_if=lambda e: True)
    assert len(calls) == 6
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = RetryPolicy(base_wait=0.5, rng=lambda: 0.25)
    assert jittered.wait_before(3, Transient("x", provider="p", endpoint="e")) == 0.5


def test_retry_after_is_a_floor_and_the_elapsed_budget_is_kept():
    waits = []
    policy = RetryPolicy(attempts=5, base_wait=0.1, max_elapsed=10, sleep=waits.append, rng=lambda: 0.0)
    with pytest.raises(Transient):
        call_with_retries(
            lambda: (_ for _ in ()).throw(Transient("slow down", provider="p", endpoint="e", retry_after=4.0)),
            policy,
            retry_if=lambda e: True,
        )
    assert waits == [4.0, 4.0]  # a third 4 s wait would pass the 10 s budget: stop instead


def test_a_429_burst_is_waited_out_before_any_retry(fresh_sandbox, tmp_path):
    arrivals = []
    fresh_sandbox.faults = Faults(rate_429=1.0, retry_after=0.4)

    def sleep(seconds):
        arrivals.append(("slept", seconds))
        fresh_sandbox.faults = Faults()  # the burst ends while we wait
        time.sleep(seconds)

    policy = RetryPolicy(attempts=3, sleep=sleep, rng=lambda: 0.0)
    frame = _frame("xportcn-open", "R429")
    result = importer.run(frame, settings=fresh_sandbox.settings(), output=tmp_path / "o.xlsx", policy=policy)
    assert set(result.outcomes["status"]) == {Status.CREATED}
    assert arrivals and all(seconds >= 0.4 for _, seconds in arrivals)


def test_client_rate_limit_keeps_every_second_under_the_limit(fresh_sandbox, tmp_path):
    limit = 8.0
    fresh_sandbox.faults = Faults(rate_limit=limit)  # the sandbox refuses anything over the limit with 429
    settings = _with(fresh_sandbox, "xportcn-open", rate_limit=limit, concurrency=4)
    frame = pd.concat([_frame("xportcn-open", f"RL-{n}") for n in range(12)], ignore_index=True)
    result = importer.run(frame, settings=settings, output=tmp_path / "o.xlsx", policy=RetryPolicy(attempts=1))
    assert set(result.outcomes["status"]) == {Status.CREATED}  # not one 429 from the sandbox's own limiter
    arrivals = fresh_sandbox.state.arrivals("/xportcn/api")
    assert len(arrivals) == 24  # a preview and a create per order
    # Even spacing at 1.05 / rate puts at most `limit` calls in any second; arrivals are measured at the
    # server, so a shared machine's scheduling delays are allowed 0.1 s (a limiter with bursts fails by far)
    window = 1.0 - 0.1
    assert max(sum(1 for t in arrivals if start <= t < start + window) for start in arrivals) <= limit


def test_rate_limiter_spaces_calls_evenly():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert len(slept) == 4 and all(abs(s - 0.105) < 1e-9 for s in slept)


def _limited_calls(rate, oversleeps, pauses=None):
    """When each call left, on a fake clock where every sleep overshoots by the next of ``oversleeps``."""
    now = [0.0]
    lateness = iter(oversleeps)

    def sleep(seconds):
        now[0] += seconds + next(lateness, 0.0)

    limiter = RateLimiter(rate, clock=lambda: now[0], sleep=sleep)
    went = []
    for pause in pauses or [0.0] * len(oversleeps):
        now[0] += pause
        limiter.acquire()
        went.append(now[0])
    return limiter, went


def test_small_oversleeps_do_not_add_up_over_a_long_run():
    limiter, went = _limited_calls(20, [0.003] * 201)
    assert went[-1] - went[0] <= 200 * limiter.interval + limiter.catch_up  # on the grid, not 200 x 3 ms later


def test_a_late_wake_beyond_the_catch_up_starts_the_grid_again():
    limiter, went = _limited_calls(20, [0.5], pauses=[0.0] * 4)  # the second call's sleep overshoots by 0.5 s
    assert went[1] - went[0] == pytest.approx(limiter.interval + 0.5)
    assert went[2] - went[1] == pytest.approx(limiter.interval)  # no burst to make up for the lost half second
    assert went[3] - went[2] == pytest.approx(limiter.interval)


@hypothesis.settings(max_examples=200, deadline=None)
@given(
    rate=st.sampled_from([1.0, 2.0, 5.0, 20.0, 50.0]),  # calls per second, as providers state them
    oversleeps=st.lists(st.floats(0, 0.2), min_size=2, max_size=120),
    pauses=st.lists(st.floats(0, 0.3), min_size=120, max_size=120),
)
def test_no_second_of_calls_holds_more_than_the_rate_however_late_threads_wake(rate, oversleeps, pauses):
    limiter, went = _limited_calls(rate, oversleeps, pauses[: len(oversleeps)])
    assert max(bisect.bisect_left(went, start + 1.0) - i for i, start in enumerate(went)) <= rate
    assert all(later - earlier >= limiter.interval - limiter.catch_up for earlier, later in itertools.pairwise(went))


def test_threads_that_wake_late_after_a_stall_still_go_an_interval_apart():
    """A pause of the whole process (a collector pass, a busy machine) must not release waiting calls at once."""
    limiter = RateLimiter(20)  # an interval of 0.0525 s
    limiter.acquire()
    stall_ends = time.monotonic() + 0.3
    limiter._sleep = lambda seconds: time.sleep(max(seconds, stall_ends - time.monotonic()))  # everyone oversleeps
    went: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        limiter.acquire()
        with lock:
            went.append(time.monotonic())

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    went.sort()
    assert all(later - earlier >= 0.8 * limiter.interval for earlier, later in itertools.pairwise(went))


# ----- circuit breaker ----------------------------------------------------------------------


def test_a_provider_that_stays_down_is_not_called_for_the_rest_of_the_run(fresh_sandbox, tmp_path):
    fresh_sandbox.faults = Faults(rate_503=1.0)
    settings = _with(fresh_sandbox, "xportcn-open", concurrency=1, options={"circuit_breaker_threshold": 3})
    frame = pd.concat([_frame("xportcn-open", f"CB-{n}") for n in range(6)], ignore_index=True)
    policy = RetryPolicy(attempts=2, sleep=lambda s: None)
    result = importer.run(frame, settings=settings, output=tmp_path / "o.xlsx", policy=policy, stage="preview")
    statuses = Counter(result.outcomes["status"])
    assert statuses[Status.PREVIEW_FAILED] == 1  # the first order failed after its retries
    assert statuses[Status.NOT_ATTEMPTED] == 5  # then the breaker opened: the rest were not sent
    assert "provider unavailable" in " ".join(result.outcomes["error"])
    assert result.exit_code == 3  # a provider was unavailable: retry the run later
    assert fresh_sandbox.state.calls("POST /xportcn/api/open/order/render") == 3


# ----- unclear creates are reconciled, never resent ------------------------------------------


def test_commit_then_drop_is_resolved_on_the_next_run_without_duplicates(fresh_sandbox, tmp_path):
    frame = pd.concat([_frame(p, f"DROP-{p}-{n}") for p in ("xportcn-open", "shanjing") for n in range(10)])
    frame = frame.reset_index(drop=True)
    fresh_sandbox.faults = Faults(drop_after_commit=0.2, seed=11)
    kwargs = {"settings": fresh_sandbox.settings(), "output": tmp_path / "o.xlsx", "ledger": tmp_path / "l.sqlite"}
    first = importer.run(frame, policy=RetryPolicy(attempts=2, sleep=lambda s: None), **kwargs)
    unknown = int((first.outcomes["status"] == Status.UNKNOWN).sum())
    assert unknown > 0, "the seed should drop some answers"
    assert first.outcomes.loc[first.outcomes["status"] == Status.UNKNOWN, "error"].str.contains("manual check").all()
    fresh_sandbox.faults = Faults()
    creates_before = fresh_sandbox.state.create_calls()
    second = importer.run(frame, policy=RetryPolicy(attempts=2, sleep=lambda s: None), **kwargs)
    assert set(second.outcomes["status"]) <= {Status.ALREADY_CREATED, Status.CREATED}
    assert fresh_sandbox.state.duplicates() == {}
    assert fresh_sandbox.state.create_calls() == creates_before  # every dropped order was found, none resent


def test_commit_then_500_is_unknown_then_found(fresh_sandbox, tmp_path):
    frame = _frame("dajisaas", "E500")
    kwargs = {"settings": fresh_sandbox.settings(), "output": tmp_path / "o.xlsx", "ledger": tmp_path / "l.sqlite"}
    fresh_sandbox.faults = Faults(error_after_commit=1.0)
    first = importer.run(frame, policy=RetryPolicy(attempts=3, sleep=lambda s: None), **kwargs)
    assert set(first.outcomes["status"]) == {Status.UNKNOWN}
    assert fresh_sandbox.state.create_calls() == 1  # a 500 after sending is never retried
    fresh_sandbox.faults = Faults()
    second = importer.run(frame, **kwargs)
    assert set(second.outcomes["status"]) == {Status.ALREADY_CREATED}
    assert fresh_sandbox.state.duplicates() == {} and fresh_sandbox.state.create_calls() == 1


def test_a_finished_file_rerun_sends_no_create(fresh_sandbox, tmp_path):
    sheet = tmp_path / "orders.xlsx"
    shutil.copy(SAMPLES / "orders.xlsx", sheet)
    importer.run(sheet, settings=fresh_sandbox.settings())
    before = fresh_sandbox.state.create_calls()
    importer.run(sheet, settings=fresh_sandbox.settings())
    assert fresh_sandbox.state.create_calls() == before


# ----- crash tests -------------------------------------------------------------------------


def test_killed_runs_never_create_twice_quick(fresh_sandbox, tmp_path):
    report = crash_loop(fresh_sandbox, tmp_path, kills=6, seed=1)
    assert report["kills"] >= 6


def test_runs_killed_with_slow_creates_in_flight_never_create_twice_quick(tmp_path):
    with Sandbox.start(create_delay=SLOW_CREATE) as slow:
        report = crash_loop(slow, tmp_path, kills=3, seed=3, read_timeout=SLOW_READ_TIMEOUT)
    assert report["kills"] >= 3 and report["by_point"]["in-flight"] >= 1


@pytest.mark.slow
def test_killed_runs_never_create_twice_200_times(fresh_sandbox, tmp_path):
    report = crash_loop(fresh_sandbox, tmp_path, kills=200, seed=2)
    assert report["kills"] >= 200
    print(f"crash loop: {report}")


@pytest.mark.slow
def test_runs_killed_with_slow_creates_in_flight_never_create_twice_100_times(tmp_path):
    with Sandbox.start(create_delay=SLOW_CREATE) as slow:
        report = crash_loop(slow, tmp_path, kills=100, seed=4, read_timeout=SLOW_READ_TIMEOUT)
    assert report["kills"] >= 100
    print(f"crash loop, creates slower than the read timeout: {report}")


SLOW_CREATE, SLOW_READ_TIMEOUT = 1.5, 1.0
"""A provider whose creates take longer than the client waits: every create's answer is lost."""


def crash_loop(sandbox, tmp_path, *, kills, seed, max_rounds=200, read_timeout=None):
    """Rounds until ``kills`` runs were killed. Per round: a fresh copy of the demo sheet (new order refs),
    runs killed at a random moment and at each named point, then a clean run; afterwards no external id may
    hold two orders. With ``read_timeout`` (below the sandbox's create delay) each round also kills a run
    while its creates are in flight at the provider, and every run starts at once after the one before."""
    rng = random.Random(seed)
    config = tmp_path / "importer.toml"
    env = {**os.environ, **sandbox.write_config(config), "ORDER_IMPORTER_CONFIG": str(config)}
    if read_timeout is not None:
        text = config.read_text("utf-8")
        config.write_text(re.sub(r"(\[providers\.[^\]]+\]\n)", rf"\1read_timeout = {read_timeout}\n", text), "utf-8")
    points = ("random", *(("in-flight",) if read_timeout is not None else ()), *NAMED_POINTS)
    sandbox.faults = Faults(drop_after_commit=0.1, seed=seed)
    killed = Counter()
    round_no = 0
    while sum(killed.values()) < kills and round_no < max_rounds:
        round_no += 1
        sheet = tmp_path / f"round-{round_no}" / "orders.xlsx"
        sheet.parent.mkdir()
        frame = importer.load(SAMPLES / "orders.xlsx").frame
        frame = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
        frame["order_ref"] = frame["order_ref"] + f"-{seed}-{round_no}"
        frame.to_excel(sheet, index=False, sheet_name="Orders")
        for point in points:  # the random kill first, while there is still everything to do
            killed[point] += _run_cli(sheet, env, point, rng, sandbox)
        finished = _run_cli(sheet, env, None, rng, sandbox)
        assert finished == 0
        _check_round(sheet, env)
    time.sleep(getattr(sandbox, "create_delay", 0.0) + 0.5)  # creates still in flight end before the count
    counts = requests.get(sandbox.url + "/_sandbox/orders", timeout=5).json()
    duplicates = {f"{c['provider']}/{c['external_id']}": c["orders"] for c in counts if c["orders"] > 1}
    assert duplicates == {} and sandbox.state.duplicates() == {}
    report = {"rounds": round_no, "kills": sum(killed.values()), "by_point": dict(killed), "duplicates": 0}
    report["external_ids"] = len(counts)
    return report


def _run_cli(sheet, env, point, rng, sandbox=None):
    """Run one import; returns 1 when the process was killed."""
    command = [sys.executable, "-m", "importer", "import", str(sheet)]
    run_env = dict(env)
    if point in NAMED_POINTS:
        run_env["ORDER_IMPORTER_KILL_AT"] = point
    before = sandbox.creates_received() if sandbox is not None else 0
    process = subprocess.Popen(command, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if point == "random":
        time.sleep(rng.uniform(0.2, 1.6))  # a run of the demo sheet takes about 1.5 s here
        process.send_signal(signal.SIGKILL)
    elif point == "in-flight":
        _kill_once_creates_arrive(process, sandbox, before)
    out, err = process.communicate(timeout=120)
    if process.returncode == -signal.SIGKILL:
        return 1
    assert process.returncode in (0, 1), err.decode()
    if point is None:
        assert sheet.with_name("orders.results.xlsx").exists(), (process.returncode, out, err)
    return 0


def _kill_once_creates_arrive(process, sandbox, before):
    """SIGKILL the run as soon as one of its creates reached the (slow) provider, or when it ends by itself."""
    while process.poll() is None:
        if sandbox.creates_received() > before:
            process.send_signal(signal.SIGKILL)
            return
        time.sleep(0.01)


def _check_round(sheet, env):
    results = sheet.with_name("orders.results.xlsx")
    rows = pd.read_excel(results, sheet_name="Orders", dtype=str, engine="openpyxl")
    assert len(rows) == len(importer.load(SAMPLES / "orders.xlsx"))
    assert set(rows["status"]) <= {str(s) for s in SETTLED}
    ledger = Path(env["ORDER_IMPORTER_DATA_DIR"]) / "ledger.sqlite"
    with sqlite3.connect(ledger) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# ----- helpers -------------------------------------------------------------------------------


def _frame(provider, ref):
    examples = {
        "xportcn-open": ("600126245031041190", "5016042822039"),
        "dajisaas": ("652711530188", "4412088130021"),
        "shanjing": ("652711530188", "4412088130021"),
    }
    item, sku = examples[provider]
    return pd.DataFrame(
        [
            {
                "provider": provider,
                "order_ref": ref,
                "item_id": item,
                "sku_id": sku,
                "quantity": "1",
                "receiver_name": "张三",
                "receiver_mobile": "13800138000",
                "province": "浙江省",
                "city": "杭州市",
                "district": "余杭区",
                "address": "文一西路969号",
            }
        ],
        dtype=str,
    )


def _with(sandbox, provider, options=None, **changes):
    import dataclasses

    settings = sandbox.settings()
    account = settings.account(provider)
    if options:
        changes["options"] = {**account.options, **options}
    return settings.with_accounts({provider: dataclasses.replace(account, **changes)})


def test_cli_exit_code_3_when_a_provider_is_down(tmp_path):
    from typer.testing import CliRunner

    from importer.cli import app

    sheet = tmp_path / "orders.xlsx"
    shutil.copy(SAMPLES / "orders-xportcn-open.xlsx", sheet)
    config = tmp_path / "importer.toml"
    config.write_text(
        '[providers.xportcn-open]\nbase_url = "http://127.0.0.1:9"\naccess_key_env = "HOME"\nsecret_env = "HOME"\n'
        'circuit_breaker_threshold = 1\nconnect_timeout = 0.5\nuser_id = "u-1"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["import", str(sheet), "--config", str(config)])
    assert result.exit_code == 3, result.output
    rows = pd.read_excel(tmp_path / "orders.results.xlsx", dtype=str, engine="openpyxl")
    assert "NOT_ATTEMPTED" in set(rows["status"])


def test_endpoint_latency_and_token_lifetime_knobs(fresh_sandbox):
    from importer.cli import _endpoint_latency

    faults = Faults(latency=0.1, endpoint_latency=_endpoint_latency(["/purchase/order/create=0.5"]))
    assert faults.delay("/shanjing/rest/taobao-global/purchase/order/create") == pytest.approx(0.6)
    assert faults.delay("/shanjing/rest/taobao-global/purchase/order/render") == pytest.approx(0.1)
    with pytest.raises(Exception, match="PATH=SECONDS"):
        _endpoint_latency(["nonsense"])
    fresh_sandbox.set_token_lifetime(5)
    assert fresh_sandbox.module("shanjing").token_lifetime == 5
