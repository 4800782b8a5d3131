"""The unattended face: inbox folders processed on a schedule, and run notifications."""
