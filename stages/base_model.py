"""Stage base_model: the packaged GGUF baseline, dequantised once into models/base."""

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.models.hf import materialize_base


def main() -> None:
    params = load_params(ROOT / "params.yaml")
    card = materialize_base(params.model, ROOT / "models/base")
    print(f"base model {card['name']}: {card['parameters']:,} parameters")


if __name__ == "__main__":
    run_stage(main)
