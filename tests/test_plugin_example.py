"""The README's pytest-plugin example, verbatim: a user's own integration test on the sandbox."""

from venice_web3_keys import VeniceKeys, load_settings


def test_my_backend_mints(venice_sandbox, venice_wallet):
    _address, private_key = venice_wallet
    settings = load_settings(environ=venice_sandbox.env(private_key))
    with VeniceKeys(settings) as vk:
        key = vk.mint_key(api_key_type="INFERENCE", description="ci", usd_limit=1, expires_at="1d")
    assert len(key.last6) == 6
    mints = [r for r in venice_sandbox.emulator.request_log
             if r.method == "POST" and r.path.endswith("/generate_web3_key")]
    assert mints[-1].status == 200
