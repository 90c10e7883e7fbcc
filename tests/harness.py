"""What tests of every layer share: a sandbox account and one way to run the `venice-keys` CLI.

The fixtures that hand these out live in tests/conftest.py (`account`, `admin_env`, `cli`), on
top of the package's own pytest plugin (venice_web3_keys/sandbox/pytest_plugin.py).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from venice_web3_keys.bounded_http import tls_context
from venice_web3_keys.settings import Settings, load_settings

if TYPE_CHECKING:
    from venice_web3_keys.sandbox.emulator.state import RecordedRequest
    from venice_web3_keys.sandbox.runner import Sandbox
    from venice_web3_keys.secret import ApiKeySecret, SecretValue

#: the console script `venice-keys` of the running interpreter's environment
CLI_SCRIPT = Path(sys.executable).parent / "venice-keys"
#: our settings in the environment; a CLI run starts without any of them
OWN_VARIABLES = ("VENICE_", "BASE_RPC", "_VENICE")


def skip_module_off_ci(reason: str, environ: Mapping[str, str] = os.environ) -> NoReturn:
    """Skip the calling test module for `reason`, or on CI (`CI` set) fail the run instead:
    there, a test that needs something missing is work silently not done."""
    if environ.get("CI"):
        pytest.fail(f"{reason} (CI must run these tests, not skip them)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def sandbox_settings(sandbox: Sandbox, *, private_key: SecretValue | None = None,
                     admin_key: SecretValue | None = None, **overrides: Any) -> Settings:
    """Settings that reach `sandbox`, with a wallet and/or an admin key when given."""
    environ = sandbox.env(private_key)
    if admin_key is not None:
        environ["VENICE_ADMIN_KEY"] = admin_key.reveal()
    return load_settings(environ=environ, **overrides)


@dataclass
class SandboxAccount:
    """A sandbox wallet holding 100 sVVV, an ADMIN key of the account that wallet mints into,
    and the settings (as environment variables) to reach both."""

    sandbox: Sandbox
    address: str
    private_key: SecretValue
    admin_key: ApiKeySecret
    env: dict[str, str]
    _inference_key: str | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        return load_settings(environ=self.env)

    def secrets(self) -> list[str]:
        """Every secret of this account as text, to search outputs for (0x and bare forms)."""
        key = self.private_key.reveal()
        return [key, key.removeprefix("0x"), self.admin_key.reveal()]

    def inference_key(self) -> str:
        """An INFERENCE key of this account (made once, through the library)."""
        if self._inference_key is None:
            from venice_web3_keys import VeniceKeys

            with VeniceKeys(self.settings) as keys:
                new = keys.create_key(api_key_type="INFERENCE", description="inference",
                                      usd_limit=1)
            self._inference_key = new.secret.reveal()
        return self._inference_key

    def last_request(self) -> RecordedRequest | None:
        """The emulator's most recent request (of any client)."""
        requests = self.sandbox.emulator.requests()
        return requests[-1] if requests else None


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent environment minus every setting of ours, plain and wide output, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_VARIABLES)}
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    env.update(extra or {})
    return env


def console_script_probe(at_exit: str, setup: str = "") -> str:
    """Source for `python -c SOURCE OUT SCRIPT ARGS...`: run the console script SCRIPT as its
    shebang would (after `setup`), and at exit write the value of the expression `at_exit` (a
    str) to the file OUT. The exit handler is registered before the script starts, so it runs
    after the script's own: it sees the process as it leaves."""
    return ("import atexit, runpy, sys\n"
            "out, script = sys.argv[1], sys.argv[2]\n"
            f"{setup}\n"
            "def _record():\n"
            "    with open(out, 'w') as f:\n"
            f"        f.write({at_exit})\n"
            "atexit.register(_record)\n"
            "sys.argv = sys.argv[2:]\n"
            "runpy.run_path(script, run_name='__main__')\n")


def untraced(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the coverage tracer's settings: a subprocess run as a user runs it, where
    tracing would only double its CPU (what it runs of ours is measured in-process too)."""
    return {k: v for k, v in env.items() if not k.startswith("COVERAGE_PROCESS_")}


def _flat(text: str) -> str:
    return " ".join(text.split())


def start_cli(*argv: str, env: Mapping[str, str] | None, cwd: Path) -> subprocess.Popen[str]:
    """The console script as a live process, to interrupt: SIGINT at its default disposition,
    as in a user's terminal (a shell starts background jobs with SIGINT ignored, and a child
    inherits that), and faulthandler on, so a hang can be shown with SIGABRT."""
    return subprocess.Popen([str(CLI_SCRIPT), *argv],
                            env=clean_env({**(env or {}), "PYTHONFAULTHANDLER": "1"}), cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@dataclass(frozen=True)
class CliResult:
    """Exit code and output of one `venice-keys` run."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        """stdout, which must be exactly one JSON object and nothing else."""
        value = json.loads(self.stdout)
        assert isinstance(value, dict), self.stdout
        return value

    def error(self) -> dict[str, Any]:
        """A `--json` failure: `{"error": {"type", "message", ...}}` only; message on stderr."""
        body = self.json()
        assert set(body) == {"error"}, body
        err: dict[str, Any] = body["error"]
        assert isinstance(err["type"], str) and err["type"]
        assert isinstance(err["message"], str) and err["message"]
        assert _flat(err["message"]) in _flat(self.stderr), (err, self.stderr)
        return err


class CliRunner:
    """`venice-keys`, run the two ways tests need.

    `cli(*argv, env=..., input=...)` calls the console-script function `main()` in this process:
    the same code as the installed script, without a new interpreter per run. `cli.subprocess(...)`
    runs the installed script itself, for tests where the process is the point (signals, a
    terminal, what gets imported, the entry point). Both start from `clean_env()` plus `env`, in
    `cwd` (the test's tmp_path by default), with `input` (default: nothing) on stdin.
    """

    def __init__(self, cwd: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self.cwd = cwd
        self._monkeypatch = monkeypatch
        self._capsys = capsys

    def __call__(self, *argv: str, env: Mapping[str, str] | None = None,
                 input: str | None = None, cwd: Path | None = None) -> CliResult:
        from venice_web3_keys.cli.app import main

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no event loop here: main() may run its own
        else:
            raise RuntimeError("cli() runs main(), which runs an event loop of its own: from an "
                               "async test, use cli.subprocess(...)")
        logger = logging.getLogger("venice_web3_keys")
        handlers, level = list(logger.handlers), logger.level
        saved_environ = dict(os.environ)
        self._capsys.readouterr()
        code = 0
        with self._monkeypatch.context() as patch:
            patch.chdir(cwd or self.cwd)
            for name in list(os.environ):
                if name.startswith(OWN_VARIABLES):
                    patch.delenv(name)
            for name, value in clean_env(env).items():
                patch.setenv(name, value)
            # a real text stream over bytes, as a process gets (with .buffer, for binary reads)
            patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((input or "").encode())))
            try:
                main(list(argv))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            finally:
                logger.handlers[:] = handlers
                logger.setLevel(level)
                os.environ.clear()  # main() may set variables of its own (setdefault)
                os.environ.update(saved_environ)
        out = self._capsys.readouterr()
        return CliResult(code, out.out, out.err)

    def subprocess(self, *argv: str, env: Mapping[str, str] | None = None,
                   input: str | None = None, cwd: Path | None = None,
                   timeout: float = 60) -> CliResult:
        proc = subprocess.run([str(CLI_SCRIPT), *argv], env=clean_env(env), input=input or "",
                              capture_output=True, text=True, cwd=cwd or self.cwd,
                              timeout=timeout, check=False)
        return CliResult(proc.returncode, proc.stdout, proc.stderr)


#: the TLS context for the tests' own loopback-http clients: httpx loads the CA bundle for every
#: client it builds otherwise (bounded_http.tls_context; no TLS is ever spoken to the sandbox)
PLAIN_HTTP = tls_context(["http://127.0.0.1"])
