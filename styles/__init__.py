"""Package data: the status page stylesheet (page.css) and the dashboard's Textual CSS (app.tcss).

This top-level folder ships inside the wheel as ``callmeter_tui.styles`` (pyproject maps it); code reads it with
``importlib.resources``, never from the checkout.
"""
