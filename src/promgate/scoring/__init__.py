"""Turning model outputs into per-item results: multiple choice, generation, code."""
