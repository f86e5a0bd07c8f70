"""The application services: every change of a ticket, one transaction each."""
