"""Tree and WordNet embeddings: Poincaré/Euclidean training and the combinatorial construction."""
