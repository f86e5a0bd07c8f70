"""Slack: the agents' desk (ticket cards, threads, controls, /helpdesk) and Slack users as customers."""
