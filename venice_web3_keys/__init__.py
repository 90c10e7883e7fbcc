"""venice-web3-keys."""
