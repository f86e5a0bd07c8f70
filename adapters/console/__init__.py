"""The console chat: a customer in the terminal, with /agent commands to play the agent."""
