"""The report as a picture: its figures day by day (daily), the drawing (chart), and the weekly
picture for the agents' desks (weekly)."""
