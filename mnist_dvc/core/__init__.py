"""What every area shares: params, atomic writes, errors, the file contracts.

Standard library, numpy and PyYAML only, so any entry point can import it cheaply.
"""
