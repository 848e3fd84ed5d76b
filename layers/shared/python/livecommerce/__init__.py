"""Live-commerce domain package, shipped to Lambda as the shared layer.

One sub-package per bounded context (identity, rooms, ...); `shared` holds the
cross-cutting pieces (settings, errors, API conventions, tokens, events).
"""
