"""The command line: argv, environment, config file, exit statuses; wires the parts."""
