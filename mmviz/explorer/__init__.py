"""The Explorer's library side: projections of N × D embeddings onto the Poincaré disk
(:mod:`~mmviz.explorer.projections`) and queries on them: search, neighbours, cones,
traversals (:mod:`~mmviz.explorer.queries`)."""
