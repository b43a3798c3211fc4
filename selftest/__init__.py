"""The kill matrix and the machinery to run the suite as a subprocess: the project's own test code,
not shipped in the wheel."""
