# pragma version 0.4.3
"""
@title Sandbox ERC-20
@notice A minimal ERC-20 that the sandbox places (with anvil_setCode) at the mainnet addresses of
        the Venice staking contract (sVVV), VVV and DIEM. There is no constructor and no mint:
        the sandbox writes balances, totalSupply, name and symbol straight into storage, so the
        storage layout below is part of the contract with venice_web3_keys/sandbox/chain.py
        (slots: balanceOf=0, allowance=1, totalSupply=2, name=3..4, symbol=5..6).
"""

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)
name: public(String[32])
symbol: public(String[32])

decimals: public(constant(uint8)) = 18


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    allowed: uint256 = self.allowance[owner][msg.sender]
    assert allowed >= amount, "ERC20: insufficient allowance"
    if allowed != max_value(uint256):
        self.allowance[owner][msg.sender] = allowed - amount
    self._transfer(owner, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@internal
def _transfer(owner: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "ERC20: transfer to the zero address"
    balance: uint256 = self.balanceOf[owner]
    assert balance >= amount, "ERC20: transfer amount exceeds balance"
    self.balanceOf[owner] = balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=owner, receiver=receiver, value=amount)
