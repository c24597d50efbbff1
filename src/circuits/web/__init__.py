"""circuits.web: the HTTP server, its request/response wrappers, dispatchers and tools.

The package's exports arrive with the server; for now the building blocks
live in their own modules (``headers``, ``exceptions``, ``constants``,
``utils``, ``url``).
"""
