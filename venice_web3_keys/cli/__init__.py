"""The `venice-keys` command line (click); see `venice_web3_keys.cli.app`."""
