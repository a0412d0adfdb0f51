"""Where botocore would send a Secrets Manager or DynamoDB request, without botocore.

The boto3-free client (:mod:`auth_core.aws_json`) must reach the host boto3 would reach: a
GovCloud function told ``AWS_USE_FIPS_ENDPOINT=true`` must not talk to a non-FIPS endpoint, and
an ``aws-iso`` region is not under ``amazonaws.com``. botocore decides with a per-service
endpoint rule set (``botocore/data/<service>/<date>/endpoint-rule-set-1.json.gz``) evaluated over
``botocore/data/partitions.json``. This module is those two rule sets, read once and written out
as code, over a copy of the partitions table; ``tests/unit/aws_json/test_endpoint_resolution.py``
compares it with the installed botocore on every region of every partition, with and without
FIPS, dual-stack and endpoint overrides (and checks :data:`PARTITIONS` against botocore's file),
so a botocore upgrade that moves an endpoint fails a test instead of going unnoticed.

Inputs, from the environment as botocore reads them (:func:`settings`):

* the region, normalised as botocore does: ``fips-`` / ``-fips`` pseudo regions turn FIPS on and
  are removed (``fips-us-gov-west-1`` -> ``us-gov-west-1``); a region that is not a host label is
  refused (botocore's ``InvalidRegionError``: it would otherwise be spliced into the host name);
* ``AWS_USE_FIPS_ENDPOINT``, ``AWS_USE_DUALSTACK_ENDPOINT`` (``true`` in any case is on,
  anything else off: botocore's ``ensure_boolean``);
* ``AWS_ENDPOINT_URL_<SERVICE ID>`` (``AWS_ENDPOINT_URL_SECRETS_MANAGER``,
  ``AWS_ENDPOINT_URL_DYNAMODB``), then ``AWS_ENDPOINT_URL``; empty values are unset, and
  ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`` ignores them all. An override wins over FIPS and
  dual-stack (botocore turns both off when an endpoint is given). The older
  ``AWS_ENDPOINT_URL_SECRETSMANAGER`` (this project's first name for it) is still read, after
  the standard name, but is **deprecated**: boto3 ignores it;
* DynamoDB only: ``AWS_ACCOUNT_ID`` (botocore reads it with the environment credentials, the
  only credentials this client uses) and ``AWS_ACCOUNT_ID_ENDPOINT_MODE`` (``preferred`` by
  default, ``disabled``, ``required``; any other value, even empty, is refused, as botocore
  refuses it for every service) select the account endpoint ``https://<account>.ddb.<region>.amazonaws.com``
  where the rule set has one; a table *ARN* in the request does the same (:func:`resource_arns`).

Not read: the shared config file (``~/.aws/config``: ``use_fips_endpoint``, ``endpoint_url``,
``services`` sections...). :func:`auth_core.aws.lean_preferred` steps aside to boto3 when that
file sets any endpoint setting, so whoever reads it is botocore.

A combination botocore refuses is refused here too (:class:`EndpointConfigError`, with the rule
set's message where it has one); nothing is guessed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

__all__ = [
    "PARTITIONS",
    "Endpoint",
    "EndpointConfigError",
    "Partition",
    "Settings",
    "config_file_sets_endpoints",
    "endpoint_variables",
    "partition_of",
    "resolve",
    "resource_arns",
    "settings",
]


class EndpointConfigError(ValueError):
    """The settings name no endpoint (botocore refuses the same combination)."""


class Partition(NamedTuple):
    """One entry of botocore's ``partitions.json`` (``outputs``), as the rule sets use it."""

    name: str
    region_regex: str
    #: regions listed by name that the regex does not match (``aws-global``...).
    named_regions: frozenset[str]
    dns_suffix: str
    dual_stack_dns_suffix: str
    supports_fips: bool = True
    supports_dual_stack: bool = True

    def matches(self, region: str) -> bool:
        return region in self.named_regions or re.match(self.region_regex, region) is not None


#: botocore 1.44's ``partitions.json``, in its order (the first match wins; ``aws`` is also the
#: default for a region no partition matches). Checked against the installed botocore by a test.
PARTITIONS: tuple[Partition, ...] = (
    Partition(
        "aws",
        r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
        frozenset({"aws-global"}),
        "amazonaws.com",
        "api.aws",
    ),
    Partition(
        "aws-cn",
        r"^cn\-\w+\-\d+$",
        frozenset({"aws-cn-global"}),
        "amazonaws.com.cn",
        "api.amazonwebservices.com.cn",
    ),
    Partition(
        "aws-eusc",
        r"^eusc\-(de)\-\w+\-\d+$",
        frozenset(),
        "amazonaws.eu",
        "api.amazonwebservices.eu",
    ),
    Partition(
        "aws-iso", r"^us\-iso\-\w+\-\d+$", frozenset({"aws-iso-global"}), "c2s.ic.gov", "api.aws.ic.gov"
    ),
    Partition(
        "aws-iso-b",
        r"^us\-isob\-\w+\-\d+$",
        frozenset({"aws-iso-b-global"}),
        "sc2s.sgov.gov",
        "api.aws.scloud",
    ),
    Partition(
        "aws-iso-e",
        r"^eu\-isoe\-\w+\-\d+$",
        frozenset({"aws-iso-e-global"}),
        "cloud.adc-e.uk",
        "api.cloud-aws.adc-e.uk",
    ),
    Partition(
        "aws-iso-f",
        r"^us\-isof\-\w+\-\d+$",
        frozenset({"aws-iso-f-global"}),
        "csp.hci.ic.gov",
        "api.aws.hci.ic.gov",
    ),
    Partition(
        "aws-us-gov", r"^us\-gov\-\w+\-\d+$", frozenset({"aws-us-gov-global"}), "amazonaws.com", "api.aws"
    ),
)

#: botocore builds a client through its older endpoint data (``endpoints.json``) too, and refuses
#: dual-stack where that data has no dual-stack variant for the partition, before any rule set:
#: the partitions (matched by regex) for which both our services lack one. (It skips aws-iso and
#: aws-iso-b instead, so the rule set decides there.)
_NO_LEGACY_DUAL_STACK = frozenset({"aws-iso-e", "aws-iso-f"})
#: botocore's ``validate_region_name``: a host label, not all digits.
_REGION = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$")
#: The rule sets' ``isValidHostLabel`` (for account ids). Patterns used only on some paths stay
#: strings: ``re`` compiles (and caches) them on first use, not at the cold start's import.
_HOST_LABEL = r"^(?!-)[a-zA-Z\d-]{1,63}(?<!-)$"
_ACCOUNT_MODES = ("preferred", "disabled", "required")
#: DynamoDB regions outside ``aws`` that keep the ``aws``-style rules (account endpoints...).
_DYNAMODB_CLASSIC_REGIONS = frozenset({"us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1"})
#: botocore's service ids, as its ``AWS_ENDPOINT_URL_<ID>`` variables spell them.
_SERVICE_IDS = {"secretsmanager": "SECRETS_MANAGER", "dynamodb": "DYNAMODB", "sesv2": "SESV2"}


class Endpoint(NamedTuple):
    """Where to send, and the region to sign for (not always the configured one)."""

    url: str
    signing_region: str


class Settings(NamedTuple):
    """The endpoint-related settings botocore would use, read from one environment."""

    region: str
    fips: bool = False
    dual_stack: bool = False
    endpoint_url: str | None = None
    account_id: str | None = None
    account_id_mode: str = "preferred"


def endpoint_variables(service: str) -> tuple[str, ...]:
    """The service-specific endpoint variables, most specific first: botocore's
    ``AWS_ENDPOINT_URL_<SERVICE ID>``, then (Secrets Manager only) the deprecated
    ``AWS_ENDPOINT_URL_SECRETSMANAGER``. ``AWS_ENDPOINT_URL`` comes after both."""
    sdk = f"AWS_ENDPOINT_URL_{_SERVICE_IDS.get(service, service.upper())}"
    plain = f"AWS_ENDPOINT_URL_{service.upper()}"
    return (sdk,) if plain == sdk else (sdk, plain)


#: Shared config file keys that move an endpoint (botocore's names; ``services`` names a section
#: of per-service ``endpoint_url`` values).
_CONFIG_KEYS = (
    r"(?im)^\s*(use_fips_endpoint|use_dualstack_endpoint|endpoint_url|services|"
    r"ignore_configured_endpoint_urls|account_id_endpoint_mode)\s*="
)


def config_file_sets_endpoints(env: Mapping[str, str]) -> bool:
    """Does the shared config file (``AWS_CONFIG_FILE``, default ``~/.aws/config``) set any
    endpoint setting, in any profile? Then only botocore, which reads that file, knows the
    endpoint. No file (a Lambda) costs one failed ``open``. An unreadable file counts as "yes"."""
    # os.path, not pathlib: this runs on the authorizer's cold path.
    path = os.path.expanduser(env.get("AWS_CONFIG_FILE") or "~/.aws/config")  # noqa: PTH111
    try:
        with open(path, encoding="utf-8", errors="replace") as file:  # noqa: PTH123
            text = file.read()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return re.search(_CONFIG_KEYS, text) is not None


def _flag(value: str | None) -> bool:
    """botocore's ``ensure_boolean`` on an environment value."""
    return value is not None and value.lower() == "true"


def settings(service: str, region: str, env: Mapping[str, str]) -> Settings:
    """The settings for ``service`` in ``region`` from ``env`` (see the module docstring).

    :raises EndpointConfigError: the region is not a host label, or the account endpoint mode
        is not one botocore knows.
    """
    if not _REGION.match(region):
        raise EndpointConfigError(f"region {region!r} is not a valid region name")
    normalised = region.replace("fips-", "").replace("-fips", "")
    mode = env.get("AWS_ACCOUNT_ID_ENDPOINT_MODE", "preferred").lower()  # set but empty: refused
    if mode not in _ACCOUNT_MODES:
        raise EndpointConfigError(
            f"AWS_ACCOUNT_ID_ENDPOINT_MODE must be one of {', '.join(_ACCOUNT_MODES)}, not {mode!r}"
        )
    url = None
    if not _flag(env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")):
        names = (*endpoint_variables(service), "AWS_ENDPOINT_URL")
        url = next((value for value in (env.get(name) for name in names) if value), None)
    return Settings(
        region=normalised,
        fips=normalised != region or _flag(env.get("AWS_USE_FIPS_ENDPOINT")),
        dual_stack=_flag(env.get("AWS_USE_DUALSTACK_ENDPOINT")),
        endpoint_url=url,
        account_id=env.get("AWS_ACCOUNT_ID") or None,
        account_id_mode=mode,
    )


def partition_of(region: str) -> Partition:
    """botocore's ``aws.partition``: the first partition that lists or matches ``region``, else ``aws``."""
    return next((p for p in PARTITIONS if p.matches(region)), PARTITIONS[0])


def resource_arns(params: Mapping[str, object]) -> tuple[str, ...]:
    """The DynamoDB request's resource names that may be table ARNs, as botocore's rule set sees
    them: ``TableName`` (``GetItem``, ``Query``) or the ``RequestItems`` keys (``BatchGetItem``)."""
    table = params.get("TableName")
    if isinstance(table, str):
        return (table,)
    items = params.get("RequestItems")
    return tuple(name for name in items if isinstance(name, str)) if isinstance(items, dict) else ()


def resolve(service: str, config: Settings, arns: Iterable[str] = ()) -> Endpoint:
    """The endpoint botocore's rule set for ``service`` gives for ``config``.

    :param arns: DynamoDB only: the request's table names (:func:`resource_arns`); the first, if
        it is a DynamoDB ARN of the same region, routes to its account's endpoint.
    :raises EndpointConfigError: a combination botocore refuses (its message).
    """
    region = config.region
    partition = partition_of(region)
    if (
        config.dual_stack
        and partition.name in _NO_LEGACY_DUAL_STACK
        and re.match(partition.region_regex, region)
    ):
        raise EndpointConfigError(f"no dual-stack {service} endpoint in {region} (botocore refuses it)")
    if config.endpoint_url is not None:
        # botocore sets UseFIPS and UseDualStack to false when an endpoint is given.
        if service == "dynamodb" and _is_dual_stack_override(config.endpoint_url, region, partition):
            raise EndpointConfigError(
                "Endpoint override is not supported for dual-stack endpoints. Please enable "
                "dual-stack functionality by enabling the configuration."
            )
        return Endpoint(config.endpoint_url, region)
    if config.fips and not partition.supports_fips:
        raise EndpointConfigError("FIPS is enabled but this partition does not support FIPS")
    if config.dual_stack and not partition.supports_dual_stack:
        raise EndpointConfigError("DualStack is enabled but this partition does not support DualStack")
    if service == "secretsmanager":
        return Endpoint(f"https://{_secretsmanager_host(config, partition)}", region)
    if service == "dynamodb":
        if region == "local":
            if config.fips:
                raise EndpointConfigError("Invalid Configuration: FIPS and local endpoint are not supported")
            if config.dual_stack:
                raise EndpointConfigError(
                    "Invalid Configuration: Dualstack and local endpoint are not supported"
                )
            return Endpoint("http://localhost:8000", "us-east-1")
        return Endpoint(f"https://{_dynamodb_host(config, partition, arns)}", region)
    if service == "sesv2" and partition.name == "aws" and not (config.fips or config.dual_stack):
        # The one case written out here (compared with botocore by a test); any other partition
        # or variant is refused, and the mailer lets boto3 (which knows them all) send instead.
        return Endpoint(f"https://email.{region}.amazonaws.com", region)
    raise EndpointConfigError(f"no endpoint rules for service {service!r} with these settings")


def _secretsmanager_host(config: Settings, partition: Partition) -> str:
    """secretsmanager/2017-10-17: dual-stack ``aws``, ``aws-us-gov`` (and ``aws-cn`` without
    FIPS) hosts are the plain ones; the other partitions use ``dualStackDnsSuffix``."""
    name, region = partition.name, config.region
    prefix = "secretsmanager-fips" if config.fips else "secretsmanager"
    plain_dual_stack = {"aws", "aws-us-gov"} if config.fips else {"aws", "aws-us-gov", "aws-cn"}
    if config.dual_stack and name not in plain_dual_stack:
        return f"{prefix}.{region}.{partition.dual_stack_dns_suffix}"
    return f"{prefix}.{region}.{partition.dns_suffix}"


def _dynamodb_host(config: Settings, partition: Partition, arns: Iterable[str]) -> str:
    """dynamodb/2012-08-10 (without ``search-`` hosts: no operation we call is a search)."""
    region, mode = config.region, config.account_id_mode
    suffix = partition.dual_stack_dns_suffix if config.dual_stack else partition.dns_suffix
    if config.fips:
        if mode == "required":
            raise EndpointConfigError(
                "Invalid Configuration: AccountIdEndpointMode is required and FIPS is enabled, "
                "but FIPS account endpoints are not supported"
            )
        # GovCloud's plain DynamoDB endpoints are its FIPS ones.
        prefix = "dynamodb" if partition.name == "aws-us-gov" and not config.dual_stack else "dynamodb-fips"
        return f"{prefix}.{region}.{suffix}"
    classic = partition.name == "aws" or region in _DYNAMODB_CLASSIC_REGIONS
    if not classic:
        if mode == "required":
            raise EndpointConfigError(
                "Invalid Configuration: AccountIdEndpointMode is required but account endpoints "
                "are not supported in this region"
            )
        return f"dynamodb.{region}.{suffix}"
    if mode != "disabled":
        account = _arn_account(next(iter(arns), None), region)
        if account is None and config.account_id is not None:
            if not re.match(_HOST_LABEL, config.account_id):
                raise EndpointConfigError("Credentials-sourced account ID parameter is invalid")
            account = config.account_id
        if account is not None:
            return f"{account}.ddb.{region}.{suffix}"
    if mode == "required":
        raise EndpointConfigError(
            "AccountIdEndpointMode is required but no AccountID was provided or able to be loaded"
        )
    return f"dynamodb.{region}.{suffix}"


def _arn_account(arn: str | None, region: str) -> str | None:
    """The account of a DynamoDB ARN in ``region`` (botocore's ``aws.parseArn`` checks), else ``None``."""
    if arn is None or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6 or not all((parts[1], parts[2], parts[5])):
        return None
    _, _, service, arn_region, account, _ = parts
    if service != "dynamodb" or arn_region != region:
        return None
    if not re.match(_HOST_LABEL, arn_region) or not re.match(_HOST_LABEL, account):
        return None
    return account


def _is_dual_stack_override(url: str, region: str, partition: Partition) -> bool:
    """DynamoDB refuses an override naming its own dual-stack host (use the setting instead)."""
    authority = url.partition("://")[2].partition("/")[0]
    return authority in {
        f"dynamodb.{region}.{partition.dual_stack_dns_suffix}",
        f"search-dynamodb.{region}.{partition.dual_stack_dns_suffix}",
    }
