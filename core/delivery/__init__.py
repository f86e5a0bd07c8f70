"""Delivery: the channel contract, the exactly-once inbound pipeline, the outbox and its relay."""
