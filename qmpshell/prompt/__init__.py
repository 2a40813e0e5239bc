"""The person at the terminal: the only prompt_toolkit code."""
