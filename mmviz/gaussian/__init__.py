"""The probabilistic Gaussian view of contrastive learning (Baptista, Stuart & Tran 2025):
closed forms (:mod:`~mmviz.gaussian.theory`), tilted losses (:mod:`~mmviz.losses.tilts`),
the lab's models (:mod:`~mmviz.gaussian.models`) and presets (:mod:`~mmviz.gaussian.presets`).
The data generator is the ``gaussian`` dataset in :mod:`mmviz.data.gaussian`."""
