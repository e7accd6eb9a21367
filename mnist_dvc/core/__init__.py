"""What every area shares: params, atomic writes, errors, the file contracts and their records.

Standard library, numpy, PyYAML and msgspec only, so any entry point can import it cheaply.
"""
