"""The practitioner's console: a few pages over the same functions the CLI uses."""
