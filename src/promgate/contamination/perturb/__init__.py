"""The contamination-resistant suite: eval items changed so a memorised answer is wrong.

- :mod:`.choices`: MMLU / ARC with the answer options permuted (the gold option moves).
- :mod:`.numeric`: GSM8K with the question's numbers changed and the answer recomputed from
  the worked solution's calculator annotations.
- :mod:`.rename`: HumanEval with the function and its identifiers renamed; the canonical
  solution must still pass the upstream tests.
- :mod:`.suite`: builds every variant benchmark and counts what had to be skipped, and why.
"""
