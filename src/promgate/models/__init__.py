"""Model backends. Only ``hf`` (transformers) exists so far."""
