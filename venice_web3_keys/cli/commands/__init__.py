"""The commands, one module per noun; `cli/app.py` adds them to the group."""
