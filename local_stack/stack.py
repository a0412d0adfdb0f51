"""The whole local stack: moto, the template's resources, keys, demo data, functions, HTTP API.

Start-up is ordered for speed (target: first request served < 3 s on a laptop): moto's import
(~0.9 s) runs in a thread while the template is read and the HTTP port is bound; the functions'
execution environments start in the background while the keys are rotated and the demo data seeded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auth_core.settings import ENV_VARS, Settings
from local_stack.apigw import Gateway
from local_stack.cfn import Resolver, StackIdentity, TemplateError, load_template
from local_stack.demo_site import DEMO_CLIENT_ID, DEMO_PATH, DEMO_REDIRECT_URI, demo_response
from local_stack.mailbox import MAIL_PATH, Mailbox, verify_sender
from local_stack.persist import StateFile
from local_stack.resources import (
    RotationHook,
    begin_rotation,
    create_secret,
    create_table,
    end_rotation,
    pending_rotation,
    rotate_secret,
)
from local_stack.runtime import FunctionPool, Runtime, lambda_environment
from local_stack.sam import AppModel, build_model, parameter_values, physical_names
from local_stack.server import GatewayServer

__all__ = ["ROOT", "LocalStack", "StackOptions", "read_stack_file"]

ROOT = Path(__file__).resolve().parent.parent
LogSink = Callable[[str], None]


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


@dataclass
class StackOptions:
    """How to run the stack. ``port``/``moto_port`` 0 pick free ports (tests)."""

    template: Path = ROOT / "template.yaml"
    host: str = "127.0.0.1"
    port: int = 3000
    moto_port: int = 0
    #: if ``moto_port`` is busy, take a free one instead of failing
    moto_port_fallback: bool = False
    params: dict[str, str] = field(default_factory=dict)
    #: ``VAR=VALUE`` for every function, or ``LogicalId.VAR=VALUE`` for one.
    env: dict[str, str] = field(default_factory=dict)
    state_dir: Path | None = ROOT / ".local"
    stack_name: str = "jwt-auth-local"
    region: str = "us-east-1"
    warm: bool = True
    seed: bool = True
    #: keep tables, secrets and the demo credentials in ``state_dir`` across restarts
    persist: bool = True
    #: forget the persisted state first (``--reset``, ``make local RESET=1``)
    reset: bool = False
    #: seconds between snapshots of the persisted state (also taken on stop)
    snapshot_every: float = 5.0
    log: LogSink = _stderr
    function_log: LogSink | None = None


def read_stack_file(path: Path) -> dict[str, Any] | None:
    """The ``stack.json`` of a running stack, or ``None`` (absent, unreadable, or its process is gone)."""
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    pid = info.get("pid")
    if not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return info


class LocalStack:
    """Start with :meth:`start`, stop with :meth:`stop` (also a context manager)."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.identity = StackIdentity(stack_name=options.stack_name, region=options.region)
        self.timings: dict[str, float] = {}
        self.info: dict[str, Any] = {}
        self.model: AppModel | None = None
        self.runtime = Runtime()
        self.gateway: Gateway | None = None
        self.environments: dict[str, dict[str, str]] = {}
        self._moto: Any = None
        self._server: GatewayServer | None = None
        self._stack_file: Path | None = None
        self._rotation_hook: RotationHook | None = None
        self._started = time.perf_counter()
        self._state: StateFile | None = None
        self._snapshot_stop = threading.Event()
        self._snapshot_lock = threading.Lock()
        self.mailbox: Mailbox | None = None

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------ start
    def _mark(self, name: str) -> None:
        self.timings[name] = time.perf_counter() - self._started

    def start(self) -> dict[str, Any]:
        """Bring everything up; returns the ``stack.json`` document.

        :raises TemplateError: the template cannot be emulated.
        :raises local_stack.apigw.InvocationError: key bootstrap (the rotation function) failed.
        """
        self._started = time.perf_counter()
        opts = self.options
        if opts.state_dir is not None:
            check_state_dir_free(opts.state_dir)
        moto_box: dict[str, Any] = {}
        moto_thread = threading.Thread(target=self._start_moto, args=(moto_box,), daemon=True)
        moto_thread.start()

        template = load_template(opts.template)
        resolver = Resolver(template, parameter_values(template, opts.params), self.identity)
        resolver.refs.update(physical_names(template, self.identity, resolver))
        self.model = model = build_model(template, resolver)
        try:
            self._server = GatewayServer(opts.host, opts.port)
        except OSError as exc:
            raise OSError(
                f"API port {opts.port} on {opts.host} is not available ({exc.strerror or exc}): "
                "choose another with --port N (make local PORT=N), or 0 for any free port"
            ) from exc
        api_url = f"http://{opts.host}:{self._server.port}"
        resolver.get_att = self._get_att_factory(api_url)
        self._mark("template")

        import boto3  # noqa: PLC0415 - after moto's import has started in its thread

        moto_thread.join()
        if "error" in moto_box:
            raise moto_box["error"]
        endpoint = moto_box["endpoint"]
        self._mark("moto")
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=opts.region
        )
        ddb = session.client("dynamodb", endpoint_url=endpoint)
        sm = session.client("secretsmanager", endpoint_url=endpoint)
        for table in model.tables.values():
            create_table(ddb, table)
        for secret in model.secrets.values():
            resolver.refs[secret.logical_id] = create_secret(sm, secret)
        restored = self._restore_state(ddb)
        self._mark("resources")

        for lid, spec in model.functions.items():
            env = function_environment(model, lid, api_url, opts.env)
            self.environments[lid] = env
            full_env = lambda_environment(spec, env, region=opts.region, endpoint_url=endpoint)
            self.runtime.pools[lid] = FunctionPool(
                spec, full_env, opts.region, self.identity.account_id, opts.function_log or opts.log
            )
        self.gateway = Gateway(
            model, self.runtime.invoke, domain_name=f"{opts.host}:{self._server.port}", log=opts.log
        )
        self._server.gateway = self.gateway
        # moto's SES accepts mail only from a verified identity: the configured sender is.
        sender = self._any_env(ENV_VARS["mail_from"])
        if sender and verify_sender(session.client("sesv2", endpoint_url=endpoint), sender):
            opts.log(f"mail: sender {sender} verified in moto; messages at {api_url}{MAIL_PATH}")
        self.mailbox = mailbox = Mailbox(self.identity.account_id, opts.region, opts.log)
        mailbox.watch()
        # /demo/ and /local/mail: beside the API, never deployed
        demo_config = {
            "api_dpop": self.environments.get("AuthorizerFunction", {}).get(
                ENV_VARS["authorizer_dpop"], "off"
            )
        }
        self._server.static = lambda request: demo_response(request, demo_config) or mailbox.response(request)

        # The rotation function is on the critical path (keys before the first token): it starts
        # alone; the other environments start after the first request (see below).
        self.runtime.warm(sorted({r.function for r in model.rotations}))
        demo: dict[str, Any] = {}

        def seed() -> None:
            try:
                saved = self._state.load_demo() if self._state is not None and restored else None
                if saved:
                    demo.update(saved)
                    demo.update(self._seed_browser_client(ddb))  # state from before demo-spa existed
                    return
                demo.update(self._seed(ddb))
                if self._state is not None and demo:
                    self._state.save_demo(demo)
            except Exception as exc:  # noqa: BLE001 - re-raised in the main thread below
                demo["error"] = exc

        seeder = threading.Thread(target=seed, daemon=True)
        if opts.seed:
            seeder.start()  # Argon2id hashing overlaps the rotation, which runs in its own process
        for rotation in model.rotations:
            if model.secrets[rotation.secret].name in restored:
                opts.log(f"keys: {model.secrets[rotation.secret].name} restored from {opts.state_dir}")
                continue
            rotate_secret(model, rotation, self.runtime.invoke, log=opts.log)
        self._rotation_hook = RotationHook(model, self.runtime.invoke, opts.log)
        self._rotation_hook.install()  # later RotateSecret calls (authctl, aws cli) run the function too
        self._moto.control["rotation"] = self.rotation_control  # auth-local invoke's rotation steps
        self._mark("keys")
        if opts.seed:
            seeder.join()
            if "error" in demo:
                raise demo["error"]
        self._mark("seed")

        self._server.start()
        self.info = self._stack_info(api_url, endpoint, demo)
        probe = self._probe(api_url)
        self._mark("first_request")
        if opts.warm:  # after the probe: on two cores, six cold starts at once would delay it
            threading.Thread(target=self.runtime.warm, daemon=True).start()
        self.info["startup_seconds"] = round(self.timings["first_request"], 3)
        self.info["startup_breakdown"] = {k: round(v, 3) for k, v in self.timings.items()}
        if probe:
            self.info["first_request"] = probe
        if opts.state_dir is not None:
            self._stack_file = self._write_stack_file(opts.state_dir, self.info)
        if self._state is not None:
            self.save_state()
            threading.Thread(target=self._snapshot_loop, daemon=True).start()
        return self.info

    # ------------------------------------------------------------------------------ state
    def _restore_state(self, ddb: Any) -> set[str]:
        """Restore the persisted tables and secrets; the names of the secrets restored."""
        opts = self.options
        if opts.state_dir is None or not opts.persist:
            return set()
        self._state = StateFile(opts.state_dir)
        if opts.reset:
            self._state.reset()
            opts.log(f"state: --reset, starting clean in {opts.state_dir}")
            return set()
        doc = self._state.load()
        if doc is None:
            return set()
        restored = set(StateFile.restore(ddb, self._secrets_backend(), doc))
        items = sum(len(v) for v in (doc.get("tables") or {}).values())
        opts.log(
            f"state: restored {items} items and {len(restored)} secrets from {self._state.path} "
            "(--reset or make local RESET=1 starts clean)"
        )
        return restored

    def _secrets_backend(self) -> Any:
        from moto.secretsmanager.models import secretsmanager_backends  # noqa: PLC0415 - moto is in-process

        return secretsmanager_backends[self.identity.account_id][self.identity.region]

    def save_state(self) -> bool:
        """Snapshot the tables and secrets to ``state.json`` now (if changed); ``True`` when written."""
        if self._state is None or self.model is None:
            return False
        from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415 - moto is in-process

        from local_stack.moto_backend import generation  # noqa: PLC0415 - moto is imported lazily there

        with self._snapshot_lock:
            return self._state.write(
                dynamodb_backends[self.identity.account_id][self.identity.region],
                self._secrets_backend(),
                [t.name for t in self.model.tables.values()],
                [s.name for s in self.model.secrets.values()],
                generation=generation(),
            )

    def _snapshot_loop(self) -> None:
        while not self._snapshot_stop.wait(self.options.snapshot_every):
            try:
                self.save_state()
            except Exception as exc:  # noqa: BLE001 - keep serving; the next snapshot may work
                self.options.log(f"state: snapshot failed: {exc}")

    def _start_moto(self, box: dict[str, Any]) -> None:
        try:
            from local_stack.moto_backend import MotoServer, port_free  # noqa: PLC0415 - ~0.9 s: in a thread on purpose

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call

            port = self.options.moto_port
            if port and not port_free(self.options.host, port):
                if not self.options.moto_port_fallback:
                    raise OSError(f"moto port {port} is in use")
                self.options.log(
                    f"moto: port {port} is busy, using a free one "
                    "(events/env.json's AWS_ENDPOINT_URL needs the port printed below)"
                )
                port = 0

            def ttl_tables() -> dict[str, str]:  # expired items are deleted, as DynamoDB's TTL does
                tables = self.model.tables.values() if self.model is not None else ()
                return {t.name: t.ttl_attribute for t in tables if t.ttl_attribute}

            server = MotoServer(
                self.options.host,
                port,
                ttl_tables=ttl_tables,
                sweep_interval=float(os.environ.get("LOCAL_STACK_TTL_SWEEP_SECONDS", "30")),
            )
            server.start()
            host, port = server.get_host_and_port()
            self._moto = server
            box["endpoint"] = f"http://{host}:{port}"
        except Exception as exc:  # noqa: BLE001 - re-raised in the main thread
            box["error"] = exc

    def rotation_control(self, request: Mapping[str, Any]) -> dict[str, str]:
        """``POST {aws_endpoint_url}/_local/rotation``: one rotation step at a time from another
        process (``auth-local invoke`` with the ``events/rotate_keys_*`` samples). No AWS API stages
        a version ``AWSPENDING`` without a value, as ``RotateSecret`` does before ``createSecret``.

        ``{"Function": rotation function, "Action": "begin" | "pending" | "end",
        "ClientRequestToken": the version (for "end")}`` → ``{"SecretId": the secret's ARN,
        "ClientRequestToken": the new ("begin") or pending ("pending") version}``. "begin" starts a
        new rotation (a pending one loses its label, as a new ``RotateSecret`` would); "end" is what
        ``RotateSecret`` does after ``finishSecret``.

        :raises LookupError: unknown function, not a rotation function, no rotation in progress.
        :raises ValueError: unknown action, or no token for "end".
        """
        model = self.model
        assert model is not None  # noqa: S101 - registered after the model is built
        try:
            function = model.function(str(request.get("Function") or ""))
        except TemplateError as exc:
            raise LookupError(str(exc)) from None
        rotation = next((r for r in model.rotations if r.function == function.logical_id), None)
        if rotation is None:
            raise LookupError(f"{function.logical_id} rotates no secret of this stack")
        action = request.get("Action")
        if action == "begin":
            token: str | None = begin_rotation(model, rotation)
        elif action == "pending":
            token = pending_rotation(model, rotation)
            if token is None:
                raise LookupError(
                    f"no rotation of {rotation.secret} is in progress: its createSecret step begins one"
                )
        elif action == "end" and isinstance(request.get("ClientRequestToken"), str):
            token = str(request["ClientRequestToken"])
            end_rotation(model, rotation, token)
        else:
            raise ValueError('"Action" must be "begin", "pending" or "end" (with "ClientRequestToken")')
        return {"SecretId": model.resolver.refs[rotation.secret], "ClientRequestToken": str(token)}

    def _get_att_factory(self, api_url: str) -> Callable[[str, str], str]:
        ident = self.identity

        def get_att(lid: str, attr: str) -> str:
            model = self.model
            assert model is not None  # noqa: S101 - set before resolution starts
            res = model.template.resources.get(lid, {})
            rtype = res.get("Type", "")
            ref = model.resolver.refs.get(lid, f"{ident.stack_name}-{lid}")
            if attr == "ApiEndpoint":
                return api_url
            if attr == "Arn":
                if "Function" in rtype:
                    return f"arn:aws:lambda:{ident.region}:{ident.account_id}:function:{ref}"
                if "Table" in rtype:
                    return f"arn:aws:dynamodb:{ident.region}:{ident.account_id}:table/{ref}"
                if rtype == "AWS::IAM::Role":
                    return f"arn:aws:iam::{ident.account_id}:role/{ref}"
                if ref.startswith("arn:"):
                    return ref
                return f"arn:aws:local:{ident.region}:{ident.account_id}:{ref}"
            if attr == "StreamArn":
                return f"arn:aws:dynamodb:{ident.region}:{ident.account_id}:table/{ref}/stream/local"
            return ref

        return get_att

    def _seed(self, ddb: Any) -> dict[str, str]:
        """A demo user and a demo client, written through the core's stores (fresh secrets each start)."""
        tables = self._named_values("_TABLE")
        users_table, clients_table = tables.get("users_table"), tables.get("clients_table")
        if not users_table or not clients_table:
            self.options.log("seed: no USERS_TABLE/CLIENTS_TABLE in any function's environment; skipped")
            return {}
        try:
            from auth_core.grant_types import CLIENT_CREDENTIALS, PASSWORD, REFRESH_TOKEN  # noqa: PLC0415
            from auth_core.passwords import PasswordHasher  # noqa: PLC0415 - the layer, only when seeding
            from auth_core.stores.clients import Client, ClientStore, hash_client_secret  # noqa: PLC0415
            from auth_core.stores.users import User, UserStore  # noqa: PLC0415
        except ImportError as exc:
            self.options.log(f"seed: the core's stores are not importable ({exc}); skipped")
            return {}
        supported = self._any_env(
            ENV_VARS["scopes_supported"], " ".join(Settings._field_defaults["scopes_supported"])
        )
        scopes = tuple(supported.replace(",", " ").split())
        username, password = "demo", secrets.token_urlsafe(12)
        client_id, client_secret = "demo-client", secrets.token_urlsafe(32)
        user = UserStore(users_table, client=ddb).create(
            User(
                username=username,
                password_hash=PasswordHasher().hash(password),
                roles=("user",),
                scopes=scopes,
            )
        )
        # The confidential client of the command-line walk-through (``auth-local demo``): the
        # grants a back end uses; the browser's code flow is demo-spa's.
        ClientStore(clients_table, client=ddb).create(
            Client(
                client_id=client_id,
                secret_hash=hash_client_secret(client_secret),
                grant_types=(PASSWORD, CLIENT_CREDENTIALS, REFRESH_TOKEN),
                scopes=scopes,
            )
        )
        return {
            "username": username,
            "user_id": user.user_id,  # the demo user's token "sub" (opaque, not the username)
            "password": password,
            "client_id": client_id,
            "client_secret": client_secret,
            "scopes": " ".join(scopes),
            **self._seed_browser_client(ddb),
        }

    def _seed_browser_client(self, ddb: Any) -> dict[str, str]:
        """``demo-spa``: the public, first-party browser client of the ``/demo/`` page (code flow
        with PKCE, refresh; a loopback redirect, so any port of this stack matches). No secret, so
        nothing to keep: created when missing, also in state saved before it existed."""
        from auth_core.errors import AlreadyExistsError  # noqa: PLC0415
        from auth_core.grant_types import AUTHORIZATION_CODE, REFRESH_TOKEN  # noqa: PLC0415
        from auth_core.stores.clients import Client, ClientStore  # noqa: PLC0415

        clients_table = self._named_values("_TABLE").get("clients_table")
        if not clients_table:
            return {}
        supported = self._any_env(
            ENV_VARS["scopes_supported"], " ".join(Settings._field_defaults["scopes_supported"])
        )
        with contextlib.suppress(AlreadyExistsError):
            ClientStore(clients_table, client=ddb).create(
                Client(
                    client_id=DEMO_CLIENT_ID,
                    grant_types=(AUTHORIZATION_CODE, REFRESH_TOKEN),
                    scopes=tuple(dict.fromkeys(("openid", "profile", *supported.replace(",", " ").split()))),
                    redirect_uris=(DEMO_REDIRECT_URI,),
                    post_logout_redirect_uris=(DEMO_REDIRECT_URI,),
                    first_party=True,
                )
            )
        return {"spa_client_id": DEMO_CLIENT_ID}

    def _any_env(self, name: str, default: str = "") -> str:
        for env in self.environments.values():
            if env.get(name):
                return env[name]
        return default

    def _named_values(self, suffix: str) -> dict[str, str]:
        """``FOO_TABLE``/``BAR_SECRET_ID`` variables of every function, as ``foo_table`` keys."""
        out: dict[str, str] = {}
        for env in self.environments.values():
            for key, value in env.items():
                if key.endswith(suffix) and value:
                    out.setdefault(key.lower(), value)
        return out

    def _stack_info(self, api_url: str, endpoint: str, demo: Mapping[str, str]) -> dict[str, Any]:
        assert self.model is not None  # noqa: S101
        return {
            "pid": os.getpid(),
            "api_url": api_url,
            "aws_endpoint_url": endpoint,
            "region": self.options.region,
            "issuer": self._any_env(ENV_VARS["issuer"]) or api_url,
            "demo_url": api_url + DEMO_PATH,
            "mail_url": api_url + MAIL_PATH,
            **demo,
            **self._named_values("_TABLE"),
            **self._named_values("_SECRET_ID"),
            "template": str(self.model.template.path),
            "params": dict(self.model.resolver.parameters),
            "routes": [r.route_key for r in self.model.routes],
            "functions": {lid: {"environment": env} for lid, env in self.environments.items()},
        }

    def _probe(self, api_url: str) -> str | None:
        """Serve one real request (discovery when the API has it, else the first public GET route)
        and report it. Not the hosted pages' routes: a sign-in or logout page is no probe, and
        their function's cold start would sit on the start-up path."""
        assert self.model is not None  # noqa: S101
        routes = sorted(self.model.routes, key=lambda r: r.path != "/.well-known/openid-configuration")
        for route in routes:
            if route.method == "GET" and route.authorizer is None and "{" not in route.path:
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(api_url + route.path, timeout=30) as resp,  # noqa: S310 - local
                ):
                    return f"GET {route.path} -> {resp.status}"
        return None

    @staticmethod
    def _write_stack_file(state_dir: Path, info: Mapping[str, Any]) -> Path:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / "stack.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # demo credentials inside
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh, indent=2)
        tmp.replace(path)
        return path

    # ------------------------------------------------------------------------------ stop
    def stop(self) -> None:
        """Stop the HTTP server, every execution environment and moto; remove ``stack.json``."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._snapshot_stop.set()
        if self.mailbox is not None:
            self.mailbox.stop()
        if self._state is not None and self._moto is not None:
            try:
                self.save_state()
            except Exception as exc:  # noqa: BLE001 - stopping anyway
                self.options.log(f"state: final snapshot failed: {exc}")
            self._state = None
        self.runtime.close()
        if self._rotation_hook is not None:
            self._rotation_hook.uninstall()
            self._rotation_hook = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._stack_file is not None:
            with contextlib.suppress(OSError):
                info = json.loads(self._stack_file.read_text())
                if info.get("pid") == os.getpid():
                    self._stack_file.unlink()
            self._stack_file = None


def function_environment(
    model: AppModel, function: str, api_url: str, overrides: Mapping[str, str]
) -> dict[str, str]:
    """One function's variables: the template's, resolved to local names; the API's AWS URL
    (``https://{api}.execute-api.{region}.amazonaws.com``) mapped to the local one; then the
    ``--env`` overrides (``VAR`` for every function, ``LogicalId.VAR`` for one).

    :raises TemplateError: an override names an unknown function.
    """
    raw = model.resolver.resolve(dict(model.functions[function].environment))
    env = {k: _stringify(v) for k, v in raw.items()}
    region = model.resolver.identity.region
    for api in model.apis.values():
        aws_url = f"https://{api.api_id}.execute-api.{region}.amazonaws.com"
        env = {k: v.replace(aws_url, api_url) for k, v in env.items()}
    for name, value in overrides.items():
        target, _, var = name.rpartition(".")
        if not target or model.function(target).logical_id == function:
            env[var] = value
    return env


def check_state_dir_free(state_dir: Path) -> None:
    """Refuse to take over the ``stack.json`` of another stack that is still running.

    :raises OSError: naming that stack's pid and the way out (``--state-dir``).
    """
    other = read_stack_file(state_dir / "stack.json")
    if other is not None and other.get("pid") != os.getpid():
        raise OSError(
            f"another local stack (pid {other['pid']}, {other.get('api_url', '?')}) is running with "
            f"{state_dir / 'stack.json'}: stop it first, or give this one its own --state-dir"
        )


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def parse_assignments(items: list[str] | None, what: str) -> dict[str, str]:
    """``["A=1", "B=x=y"]`` → ``{"A": "1", "B": "x=y"}``.

    :raises TemplateError: an item without ``=``.
    """
    out: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.]+", name):
            raise TemplateError(f"{what} must look like NAME=VALUE, got {item!r}")
        out[name] = value
    return out
