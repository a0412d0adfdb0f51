"""The cost model's arithmetic (``bench/cost_model.py``), on made-up figures: not its measurements.

Each expected value is worked out by hand from the published prices the model cites, so a wrong
rounding, a unit slip (MB vs GB, per million vs per request), a free tier applied to the wrong
plan or a memory size that stops being read from the template fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import cost_model as cm

GB_S = 0.0000133334
REQUEST = 0.20 / 1e6


def test_every_price_names_its_page_source_and_status() -> None:
    for name, p in cm.PRICES.items():
        assert p.value > 0, name
        assert p.page.startswith("https://aws.amazon.com/"), name
        assert p.status in ("AWS page, transcribed 2026-09-20", "third-party page", "unverified"), name
        assert p.read.startswith("https://") or p.status == "unverified", name
    assert cm.price("lambda_gb_second") == GB_S
    assert cm.price("lambda_request") == pytest.approx(REQUEST)


@pytest.mark.parametrize(
    ("ms", "billed"), [(0.0, 1), (0.2, 1), (1.0, 1), (1.01, 2), (43.7, 44), (250.0, 250)]
)
def test_lambda_bills_whole_milliseconds_rounded_up_at_least_one(ms: float, billed: int) -> None:
    assert cm.billed_ms(ms) == billed


def test_cpu_scales_with_the_memory_share_of_one_vcpu_and_the_core_ratio() -> None:
    plain = cm.LambdaMapping()
    assert cm.cpu_scale(512, plain) == pytest.approx(1769 / 512)
    assert cm.cpu_scale(1769, plain) == 1.0
    assert cm.cpu_scale(4096, plain) == 1.0  # more than one vCPU does not speed up one thread
    assert cm.cpu_scale(512, cm.LambdaMapping(core_ratio=2.0)) == pytest.approx(1769 / 512 / 2)


def test_lambda_duration_is_scaled_cpu_plus_a_fixed_wait_per_aws_call() -> None:
    inv = cm.Invocation("F", 256, handler_ms=10.0, aws_ms=4.0, aws_calls=2)
    mapping = cm.LambdaMapping(aws_call_ms=5.0)
    # the 4 ms inside moto are dropped, replaced by 2 x 5 ms; the 6 ms of CPU scaled by 1769/256
    assert cm.lambda_ms(inv, mapping) == pytest.approx(6 * 1769 / 256 + 10)


def test_one_invocation_costs_the_request_its_billed_gb_seconds_and_its_share_of_init() -> None:
    # 2048 MB: more than one vCPU, so no CPU scaling; 99.2 ms bills as 100 ms of 2 GB
    warm = cm.Invocation("F", 2048, handler_ms=99.2, aws_ms=0.0, aws_calls=0, init_ms=300.0)
    no_cold = cm.LambdaMapping(aws_call_ms=0.0, cold_share=0.0)
    assert cm.invocation_dollars(warm, no_cold) == pytest.approx(REQUEST + 0.100 * 2 * GB_S)
    # 1 % of invocations also pay the 300 ms of INIT
    cold = cm.LambdaMapping(aws_call_ms=0.0, cold_share=0.01)
    assert cm.invocation_dollars(warm, cold) == pytest.approx(REQUEST + (0.100 + 0.01 * 0.300) * 2 * GB_S)
    # 512 MB: the CPU work runs 1769/512 slower (99.2 -> 342.7, billed 343 ms of 0.5 GB)
    small = cm.Invocation("F", 512, handler_ms=99.2, aws_ms=0.0, aws_calls=0)
    assert cm.invocation_dollars(small, no_cold) == pytest.approx(REQUEST + 0.343 * 0.5 * GB_S)


def test_an_operation_prices_units_calls_logs_and_requests_per_service() -> None:
    op = cm.Operation(
        "op",
        (),
        http_requests=3,
        read_units=4.0,
        write_units=10.0,
        secrets_calls=2.0,
        log_bytes=float(1024**3),
    )
    got = op.dollars(cm.LambdaMapping())
    assert got == pytest.approx(
        {
            "Lambda": 0.0,
            "DynamoDB": 4 * 0.125 / 1e6 + 10 * 0.625 / 1e6,
            "Secrets Manager": 2 * 0.05 / 10_000,
            "CloudWatch": 0.50,  # one GiB
            "API Gateway": 3 / 1e6,
        }
    )


def test_the_result_cache_spares_the_authorizer_but_not_the_request_or_its_access_log() -> None:
    invoked = {"Lambda": 10.0, "CloudWatch": 2.0}
    request = {"API Gateway": 1.0}
    got = cm.authorized_request(invoked, request, hit_rate=0.9, access_log=0.5)
    assert got == pytest.approx({"Lambda": 1.0, "CloudWatch": 0.2 + 0.5, "API Gateway": 1.0})
    assert cm.authorized_request(invoked, request, 0.0, 0.0)["Lambda"] == 10.0


@pytest.mark.parametrize(
    ("maus", "plan", "dollars"),
    [
        (10_000, "Lite", 0.0),
        (100_000, "Lite", 90_000 * 0.0055),
        (1_000_000, "Lite", 90_000 * 0.0055 + 900_000 * 0.0046),
        (2_000_000, "Lite", 90_000 * 0.0055 + 900_000 * 0.0046 + 1_000_000 * 0.00325),
        (10_000, "Essentials", 0.0),
        (100_000, "Essentials", 90_000 * 0.015),
        (10_000, "Plus", 10_000 * 0.02),  # no free tier
        (1_000_000, "Plus", 20_000.0),
    ],
)
def test_cognito_plans_per_mau_with_their_free_tiers_and_bands(maus: int, plan: str, dollars: float) -> None:
    assert cm.cognito_user_pool(maus, plan) == pytest.approx(dollars)


def test_cognito_refuses_what_it_does_not_model() -> None:
    with pytest.raises(ValueError, match="unknown Cognito plan"):
        cm.cognito_user_pool(10, "Gold")
    with pytest.raises(ValueError, match="not modelled"):
        cm.cognito_user_pool(10_000_001, "Lite")


def test_cognito_m2m_is_per_app_client_plus_per_token() -> None:
    assert cm.cognito_m2m(10, 28_800) == pytest.approx(10 * 6.0 + 28.8 * 2.25)


def test_background_reads_are_one_per_interval_per_environment_at_most_one_per_invocation() -> None:
    month = 30 * 24 * 3600
    assert cm.background_reads(1e9, 2, 5) == 2 * month / 5
    assert cm.background_reads(1000, 2, 5) == 1000
    assert cm.environments(0, 10) == 1
    # 2,592,000 a month = 1/s, x3 peak, 2 s each: 6 concurrent
    assert cm.environments(month, 2000) == 6


def test_fixed_monthly_costs_are_secrets_metrics_and_background_reads() -> None:
    got = cm.fixed_monthly(
        secrets=2, feed_queries=1_000_000, feed_read_units=0.5, jwks_reads=10_000, metrics=20
    )
    assert got == pytest.approx({"Secrets Manager": 0.80 + 0.05, "DynamoDB": 0.5 * 0.125, "CloudWatch": 6.0})


def test_each_metric_name_and_dimension_values_is_one_custom_metric() -> None:
    def emf(function: str, *names: str) -> str:
        metrics = [{"Name": n, "Unit": "Count"} for n in names]
        aws = {
            "Timestamp": 1,
            "CloudWatchMetrics": [{"Namespace": "Auth", "Dimensions": [["service"]], "Metrics": metrics}],
        }
        return json.dumps({"_aws": aws, "service": function, **dict.fromkeys(names, 1)})

    logged = "\n".join(
        [
            emf("token", "Issued", "LoginFailed"),
            emf("token", "Issued"),  # the same metric again
            '{"level": "INFO", "message": "not a metric"}',
            emf("refresh", "Issued"),  # another dimension value: another metric
        ]
    )
    assert cm.emf_metrics(logged) == {
        ("Auth", "Issued", (("service", "token"),)),
        ("Auth", "LoginFailed", (("service", "token"),)),
        ("Auth", "Issued", (("service", "refresh"),)),
    }


def test_refreshes_follow_the_access_token_lifetime() -> None:
    assert cm.Usage(active_hours=10, access_token_ttl=900).refreshes == 40


@pytest.mark.parametrize(
    ("size", "consistent", "transactional", "units"),
    [
        (0, False, False, 0.5),
        (4096, False, False, 0.5),
        (4097, False, False, 1.0),
        (4097, True, False, 2.0),
        (100, True, True, 2.0),
    ],
)
def test_read_units(size: int, consistent: bool, transactional: bool, units: float) -> None:
    assert cm._read_units(size, consistent, transactional) == units


@pytest.mark.parametrize(
    ("size", "transactional", "units"), [(0, False, 1), (1024, False, 1), (1025, False, 2), (1561, True, 4)]
)
def test_write_units(size: int, transactional: bool, units: float) -> None:
    assert cm._write_units(size, transactional) == units


def test_item_size_counts_names_and_values() -> None:
    item = {"pk": {"S": "abc"}, "n": {"N": "12345"}, "ok": {"BOOL": True}, "l": {"L": [{"S": "x"}]}}
    assert cm._item_size(item) == (2 + 3) + (1 + 4) + (2 + 1) + (1 + 3 + 1 + 1)


def test_memory_is_read_from_the_template_not_assumed(tmp_path: Path) -> None:
    text = cm.TEMPLATE.read_text()
    figures = cm.template_figures()
    assert figures["memory"]["AuthorizerFunction"] == 256
    assert figures["memory"]["MeFunction"] == 128
    changed = re.sub(r"(AuthorizerFunction:\n(?:.*\n)*?      MemorySize: )256", r"\g<1>1024", text, count=1)
    assert changed != text
    copy = tmp_path / "template.yaml"
    copy.write_text(changed)
    assert cm.template_figures(copy)["memory"]["AuthorizerFunction"] == 1024


def test_the_access_log_line_fills_every_field_of_the_templates_format() -> None:
    fmt = cm.template_figures()["access_log_format"]
    size = cm.access_log_bytes(fmt)
    filled = fmt
    for key in (
        "requestId",
        "identity.sourceIp",
        "requestTime",
        "routeKey",
        "status",
        "responseLength",
        "integrationLatency",
        "authorizer.latency",
        "authorizer.error",
    ):
        filled = filled.replace(f"$context.{key}", "")
    assert "$context" not in filled  # a new field in the template must be given a sample value
    assert 150 < size < 600


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (0.00028, "0.00028"), (0.0126, "0.013"), (0.8, "0.80"), (11.375, "11.38"), (4635.0, "4,635")],
)
def test_money_keeps_two_significant_digits_of_small_amounts(value: float, shown: str) -> None:
    assert cm.money(value) == shown


def test_the_readme_shows_the_prices_the_model_uses() -> None:
    readme = (Path(cm.ROOT) / "README.md").read_text()
    assert cm.prices_table(markdown=True) in readme, (
        "README's cost prices are stale: paste the Prices table of bench/cost_model.py --markdown"
    )


def test_the_hit_rate_follows_the_requests_per_cache_window() -> None:
    # 500 requests over 10 hours: 50 an hour; a 300 s cache has 12 windows an hour, each one miss
    assert cm.derived_hit_rate(cm.Usage(api_requests=500, active_hours=10), 300) == pytest.approx(1 - 12 / 50)
    # fewer requests than windows: every request misses
    assert cm.derived_hit_rate(cm.Usage(api_requests=50, active_hours=10), 300) == 0.0
    assert cm.derived_hit_rate(cm.Usage(), 0) == 0.0  # AuthorizerResultTtl=0: no cache
