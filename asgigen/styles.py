"""The styles the built-in template offers: the choices of its `style` question, read from its
copier.yml, so that adding a style is a template change only."""

from __future__ import annotations

from typing import Any

from asgigen import template
from asgigen.errors import TemplateError
from asgigen.generate import load_yaml


def builtin_styles() -> dict[str, str]:
    """Each style of the built-in template, with its one-line summary (from the choice label)."""
    config = load_yaml((template.builtin_template() / "copier.yml").read_text(encoding="utf-8"))
    question: Any = config.get("style") if isinstance(config, dict) else None
    choices = question.get("choices") if isinstance(question, dict) else None
    if not choices:
        raise TemplateError("the built-in template's copier.yml asks no style question")
    if isinstance(choices, list):
        return {str(value): "" for value in choices}
    # A choice is "label": value; the labels read "raw: a bare ASGI application class...".
    return {
        str(value): str(label).removeprefix(f"{value}:").strip() for label, value in choices.items()
    }
