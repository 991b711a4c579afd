"""Pretrained image–text models (open_clip, MERU's released CLIP and MERU checkpoints) as a
source of embeddings: load weights safely, read a user's images and captions, embed them.

Families register in :mod:`mmviz.pretrained.registry`; :func:`load_pretrained` builds one.
"""
