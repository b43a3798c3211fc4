"""The deployment under test: options, profile, the session-start check, the one HTTP helper,
redaction, and leaving the deployment as the run found it."""
