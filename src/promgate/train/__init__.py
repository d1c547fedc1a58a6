"""Training candidates: LoRA adapters per seed."""
