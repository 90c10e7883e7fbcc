"""`python -m venice_web3_keys` runs the `venice-keys` CLI."""

from venice_web3_keys.cli.app import main

if __name__ == "__main__":
    main()
