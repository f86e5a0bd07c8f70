"""In-repo fakes of third-party services, for tests that must never reach the network."""
