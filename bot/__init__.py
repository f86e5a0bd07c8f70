"""Composition root and process: CLI, settings, wiring, the HTTP server, jobs."""
