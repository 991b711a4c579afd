"""Beyond pairwise alignment: composition, negation and unlearning studies on Trifeature captions
(the open problems of the blog that seeded mmviz), for CLIP and MERU runs."""
