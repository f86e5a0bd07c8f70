"""Platform-neutral heart of the help desk: domain, lifecycle, storage, services, i18n.

Nothing in this package imports a messenger's library or names a messenger
(tests/core/test_layering.py).
"""
