"""Reference runs shipped with mmviz in ``assets/runs/<name>/``, so every page opens on a
trained model: :mod:`.entries` says what they are, :mod:`.build` trains and packages them,
:mod:`.verify` re-evaluates the shipped checkpoints, :mod:`.install` puts them in a run store
as read-only runs."""
