"""The REST service (Flask app factory, routes, jobs, auth, storage).

Empty until the API issue lands; it may import :mod:`advisor` and below only.
"""
