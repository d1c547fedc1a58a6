"""Benchmark loading, the Item schema, stratified sampling and the prepared-data manifest."""
