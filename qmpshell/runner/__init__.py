"""One pipeline for every source of lines: dispatch, parse, confirm, execute,
render, report."""
