pytest_plugins = ["tally_stack.testing", "tally_stack.system"]
