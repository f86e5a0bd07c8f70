"""The domain: statuses, limits, the lifecycle, SLA, business time, errors, configuration."""
