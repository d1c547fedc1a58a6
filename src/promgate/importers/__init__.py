"""Importers: other harnesses' per-item output, turned into promgate ItemResults.

Each importer maps the harness's items onto promgate's item ids (so the gate pairs them with
promgate's own results) and writes ``<benchmark>.jsonl`` files the gate reads. An item that
cannot be mapped, or a record that is malformed, is an error naming file, line and field.
"""
