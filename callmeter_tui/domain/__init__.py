"""Pure rules shared by the dashboard, the public page and the webhooks.

Only the standard library and numpy may be imported here (checked by tests/test_layers.py).
Times are UTC epoch seconds (float) throughout the domain.
"""
