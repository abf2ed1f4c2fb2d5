"""asgigen: generate ASGI projects from templates, then prove each one works."""

__version__ = "0.1.0"
