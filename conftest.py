pytest_plugins = ["tally_stack.testing"]
