# pragma version 0.4.3
"""
@title Sandbox Venice staking contract (sVVV)
@notice Emulates the PUBLIC interface of the Venice staking contract on Base, not its internals:
        `stake(address to, uint256 amount)` (selector 0xadc9772e) pulls `amount` VVV from the
        caller with `transferFrom` (so it needs an `approve` first) and credits `to` with the
        same amount of sVVV, 1:1. The contract is itself the sVVV ERC-20 (balanceOf, decimals,
        totalSupply, transfer... come from Token.vy). Unstaking (a 7-day cooldown on Base) is
        not emulated. The sandbox places this code with anvil_setCode at the mainnet address
        and writes `staked_token` (the VVV address, slot 7) and the Token slots 0..6 directly,
        so the storage layout is part of the contract with venice_web3_keys/sandbox/chain.py.
"""

from ethereum.ercs import IERC20

import Token

initializes: Token
exports: Token.__interface__

event Staked:
    sender: indexed(address)
    recipient: indexed(address)
    amount: uint256

staked_token: public(address)


@external
def stake(recipient: address, amount: uint256):
    assert amount > 0, "stake: zero amount"
    assert recipient != empty(address), "stake: zero recipient"
    assert extcall IERC20(self.staked_token).transferFrom(msg.sender, self, amount), \
        "stake: VVV transfer failed"
    Token.balanceOf[recipient] += amount
    Token.totalSupply += amount
    log Token.Transfer(sender=empty(address), receiver=recipient, value=amount)
    log Staked(sender=msg.sender, recipient=recipient, amount=amount)
