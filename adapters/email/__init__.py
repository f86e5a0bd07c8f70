"""The e-mail channel: mail in over IMAP, replies out over SMTP."""
