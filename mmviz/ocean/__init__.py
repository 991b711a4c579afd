"""The data-assimilation lab (Baptista, Stuart & Tran's ocean experiment): contrastive models that
link drifter tracks (Lagrangian) to the gridded flow (Eulerian), generation of the flow given the
tracks, and the baselines a data-assimilation user knows. The flows are the ``ocean-drifters``
dataset in :mod:`mmviz.data.ocean`."""
