"""Contamination checks of a training corpus against the prepared eval sets.

Three signals, each computed item by item: hashed 8-/13-gram overlap (:mod:`.ngram`),
MinHash LSH near duplicates (:mod:`.minhash`) and nearest-neighbour cosine of sentence
embeddings (:mod:`.embedding`). :mod:`.scan` runs them in one streaming pass over the corpus.
"""
