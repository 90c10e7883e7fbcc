"""Multi-step flows over the Venice client: mint, create with reconciliation, rotate, customers.

Each flow is a plain coroutine taking its collaborators as arguments, so the facade in api.py
stays a thin layer and every flow can be tested against the sandbox directly.
"""
