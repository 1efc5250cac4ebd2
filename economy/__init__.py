"""The economy: the Mesa model that runs one quarter as a numbered protocol, and its recorder."""
