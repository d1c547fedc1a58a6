"""promgate: decide, with evidence, whether a language-model checkpoint may be promoted."""

__version__ = "0.1.0"
