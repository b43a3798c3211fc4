"""The conformance report (`json_report`) and its renderings: Markdown, HTML, JUnit properties and the console."""
