"""Stage prepare: upstream benchmark files -> data/prepared/*.jsonl, manifest, training corpus,
and DATA_CARD.md."""

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.data import card
from promgate.data.prepare import prepare, prepare_training_corpus
from promgate.io import atomic_write_text


def main() -> None:
    params = load_params(ROOT / "params.yaml")
    manifest = prepare(
        benchmarks=params.data.benchmarks,
        n_per_benchmark=params.data.n_per_benchmark,
        n_overrides={b: params.n_for(b) for b in params.data.benchmarks},
        seed=params.data.sample_seed,
        out_dir=ROOT / "data/prepared",
    )
    corpus = prepare_training_corpus(
        sources=params.data.train_sources,
        n=params.data.train_examples,
        seed=params.data.sample_seed,
        out_path=ROOT / "data/train/corpus.jsonl",
    )
    atomic_write_text(ROOT / "DATA_CARD.md", card.render(manifest, corpus))


if __name__ == "__main__":
    run_stage(main)
