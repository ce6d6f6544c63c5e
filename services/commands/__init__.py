"""The `newswatch` subcommands, one module per concern; services/cli.py imports the chosen one only."""
