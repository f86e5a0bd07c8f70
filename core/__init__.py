"""Platform-neutral heart of the help desk: domain, lifecycle, storage, services, i18n.

Nothing in this package imports telegram, slack_bolt or slack_sdk.
"""
