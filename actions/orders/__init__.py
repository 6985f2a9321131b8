"""Order flows: one module per flow, sharing actions/orders/common.py.

- status.py: order status (look up, verify ownership, answer with status and tracking).

The flows talk to the store only through actions.commerce.CommerceBackend.
"""
