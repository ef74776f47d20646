"""The development token issuer exists only in development processes: a production-configured process can
neither import it nor run it through the command line, and the production code paths never load it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT, child_env, cli, free_port


def _python(code: str, sb_env: str | None) -> subprocess.CompletedProcess:
    env = child_env({"SB_ENV": sb_env} if sb_env else {})
    if sb_env is None:
        env.pop("SB_ENV")
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("sb_env", [None, "production"])
def test_production_process_cannot_import_the_development_issuer(sb_env):
    # Input: `import skyddat_boende.identity.dev_issuer` with SB_ENV unset (production by default) and set.
    result = _python("import skyddat_boende.identity.dev_issuer", sb_env)
    assert result.returncode != 0
    assert "DevelopmentOnly" in result.stderr and "SB_ENV=development" in result.stderr


def test_development_process_imports_it():
    result = _python("from skyddat_boende.identity.dev_issuer import DevIssuer; print('ok')", "development")
    assert result.returncode == 0, result.stderr


def test_production_code_paths_do_not_load_it():
    # Input: importing the CLI and building the app in a production process.
    code = ("import sys; from skyddat_boende import cli; from skyddat_boende.app import create_app; "
            "from skyddat_boende.config import Settings; create_app(Settings()); "
            "print('skyddat_boende.identity.dev_issuer' in sys.modules)")
    result = _python(code, "production")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("command", [("token", "--role", "social_worker", "--org", "kommun-1280"),
                                     ("dev-issuer", "--port", "0"),
                                     ("serve", "--demo", "--port", "0")])
def test_commands_that_mint_tokens_refuse_production(tmp_path, command):
    # Input: the token, dev-issuer and serve --demo commands in a production process (the token command,
    # given a development issuer's key directory, used to mint a token there).
    env = {"SB_ENV": "production", "SB_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}
    if command[0] == "dev-issuer":
        command = ("dev-issuer", "--port", str(free_port()))
    result = cli(*command, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "SB_ENV=development" in result.stderr and "Traceback" not in result.stderr
