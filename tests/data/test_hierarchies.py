"""Hierarchy datasets: synthetic trees (closed-form counts) and the shipped WordNet subtrees."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from mmviz.data import registry, wordnet_build
from mmviz.data.hierarchies import MAX_TREE_NODES, hierarchy_from_edges, load_tree
from mmviz.errors import MmvizError
from mmviz.paths import ASSETS


@pytest.fixture(scope="module")
def mammal():
    return registry.load("wordnet-mammal")


def _pairs(h) -> set[tuple[str, str]]:
    return {(h.ids[d], h.ids[a]) for d, a in h.closure}


def test_mammal_counts_match_the_poincare_embeddings_mammal_closure(mammal):
    # mammal.n.01 and every synset under it via hypernym + instance-hypernym pointers;
    # all (descendant, ancestor) pairs inside, root pairs included, self pairs excluded.
    assert len(mammal) == 1182
    assert len(mammal.closure) == 6542
    assert len(mammal.edges) == 1182  # a tree's 1181 edges plus elephant's second parent


def test_mammal_nickel_kiela_filter_gives_their_released_counts(mammal):
    # Their script drops the rows of tusker.n.01 and female_mammal.n.01 (neither is anyone's ancestor).
    dropped = {"tusker.n.01", "female_mammal.n.01"}
    kept = {(d, a) for d, a in _pairs(mammal) if d not in dropped}
    assert len(kept) == 6540
    assert len({s for pair in kept for s in pair}) == 1180


@pytest.mark.parametrize(
    ("name", "root", "nodes", "edges", "closure"),
    [
        ("wordnet-mammal", "mammal.n.01", 1182, 1182, 6542),
        ("wordnet-vehicle", "vehicle.n.01", 528, 546, 2311),
        ("wordnet-tool", "tool.n.01", 348, 350, 1152),
    ],
)
def test_wordnet_subtree_counts_and_root(name, root, nodes, edges, closure):
    h = registry.load(name)
    assert (len(h), len(h.edges), len(h.closure)) == (nodes, edges, closure)
    assert h.ids[0] == root and h.depth[0] == 0
    assert h.roots.tolist() == [0]
    assert h.extras["tree_parent"][0] == -1
    assert len(set(h.ids)) == len(h)


@pytest.mark.parametrize(
    ("synset", "name", "depth", "ancestors"),
    [
        ("dog.n.01", "dog", 4, {"canine.n.02", "carnivore.n.01", "placental.n.01", "mammal.n.01"}),
        ("platypus.n.01", "platypus", 3, {"monotreme.n.01", "prototherian.n.01", "mammal.n.01"}),
        ("elephant.n.01", "elephant", 3, {"pachyderm.n.01", "proboscidean.n.01", "placental.n.01", "mammal.n.01"}),
        ("golden_retriever.n.01", "golden retriever", 8, {"retriever.n.01", "dog.n.01", "mammal.n.01"}),
        ("mammal.n.01", "mammal", 0, set()),
    ],
)
def test_mammal_nodes_depths_and_ancestors(mammal, synset, name, depth, ancestors):
    i = mammal.ids.index(synset)
    assert mammal.names[i] == name
    assert mammal.depth[i] == depth
    found = {mammal.ids[a] for d, a in mammal.closure if d == i}
    assert ancestors <= found
    assert len(found) >= depth


def test_mammal_closure_is_directed_and_has_no_self_pairs(mammal):
    pairs = _pairs(mammal)
    assert ("dog.n.01", "mammal.n.01") in pairs
    assert ("mammal.n.01", "dog.n.01") not in pairs
    assert not (mammal.closure[:, 0] == mammal.closure[:, 1]).any()
    assert {tuple(e) for e in mammal.edges.tolist()} <= {tuple(p) for p in mammal.closure.tolist()}


def test_wordnet_dag_keeps_both_parents_and_a_shortest_path_spanning_tree(mammal):
    elephant = mammal.ids.index("elephant.n.01")
    parents = {mammal.ids[p] for c, p in mammal.edges if c == elephant}
    assert parents == {"pachyderm.n.01", "proboscidean.n.01"}
    assert mammal.extras["is_tree"] is False
    tree_parent = mammal.extras["tree_parent"]
    assert mammal.ids[tree_parent[elephant]] == "pachyderm.n.01"  # first in id order among equals
    child = np.arange(1, len(mammal))
    assert (mammal.depth[tree_parent[child]] == mammal.depth[child] - 1).all()
    edges = {tuple(e) for e in mammal.edges.tolist()}
    assert all((c, int(tree_parent[c])) in edges for c in child)


@pytest.mark.parametrize(("branching", "depth"), [(1, 3), (2, 3), (3, 4), (4, 2), (10, 4)])
def test_complete_tree_counts_match_closed_forms(branching, depth):
    h = load_tree(branching=branching, depth=depth)
    n = depth + 1 if branching == 1 else (branching ** (depth + 1) - 1) // (branching - 1)
    assert len(h) == n
    assert len(h.edges) == n - 1
    assert len(h.closure) == int(h.depth.sum()) == sum(k * branching**k for k in range(depth + 1))
    assert np.bincount(h.depth).tolist() == [branching**k for k in range(depth + 1)]
    assert h.extras["is_tree"] is True


def test_tree_names_are_paths_from_the_root():
    h = load_tree(branching=3, depth=3)
    assert h.names[:5] == ["root", "0", "1", "2", "0.0"]
    assert h.ids == h.names
    leaf, mid, root = h.names.index("0.1.2"), h.names.index("0.1"), h.names.index("root")
    assert h.depth[leaf] == 3
    assert h.extras["tree_parent"][leaf] == mid
    pairs = {tuple(p) for p in h.closure.tolist()}
    assert {(leaf, mid), (leaf, root), (leaf, h.names.index("0"))} <= pairs
    assert (leaf, h.names.index("1")) not in pairs


def test_random_branching_is_seeded_and_bounded():
    a = load_tree(branching=4, depth=4, random_branching=True, seed=3)
    b = load_tree(branching=4, depth=4, random_branching=True, seed=3)
    c = load_tree(branching=4, depth=4, random_branching=True, seed=4)
    assert a.names == b.names and np.array_equal(a.edges, b.edges)
    assert a.names != c.names
    children = np.bincount(a.edges[:, 1], minlength=len(a))
    inner = a.depth < 4
    assert children[inner].min() >= 1 and children[inner].max() <= 4
    assert (children[~inner] == 0).all()  # every leaf sits on the last level
    assert len(a.closure) == int(a.depth.sum())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"branching": 10, "depth": 5}, "give 111,111 nodes; the limit is 100,000"),
        ({"branching": 10, "depth": 10, "random_branching": True}, "random branching 10 grows past 100,000"),
        ({"branching": 11}, "branching must be ≤ 10"),
        ({"depth": 0}, "depth must be ≥ 1"),
    ],
)
def test_tree_refuses_bad_sizes_with_a_clear_message(params, message):
    with pytest.raises(MmvizError, match=message):
        registry.load("tree", **params)
    assert MAX_TREE_NODES == 100_000


def test_registry_lists_the_hierarchies_and_coerces_params():
    names = {info.name for info in registry.list_datasets("hierarchy")}
    assert {"tree", "wordnet-mammal", "wordnet-vehicle", "wordnet-tool"} <= names
    h = registry.load("tree", branching="2", depth="2")
    assert len(h) == 7 and h.params["branching"] == 2


def test_hierarchy_from_edges_renumbers_breadth_first_and_rejects_two_roots():
    # Nodes given out of order: c→b→a, d→a.
    h = hierarchy_from_edges("t", {}, ["c", "b", "a", "d"], ["C", "B", "A", "D"], np.array([[0, 1], [1, 2], [3, 2]]))
    assert h.ids == ["a", "b", "d", "c"] and h.names == ["A", "B", "D", "C"]
    assert h.depth.tolist() == [0, 1, 1, 2]
    assert h.closure.tolist() == [[1, 0], [2, 0], [3, 0], [3, 1]]
    with pytest.raises(ValueError, match="expected one root, found 2"):
        hierarchy_from_edges("t", {}, ["a", "b", "c"], ["a", "b", "c"], np.array([[1, 0]]))


# ----------------------------------------------------------------- the build script

FAKE_DATA_NOUN = """\
  1 This header line is indented, as in WordNet's license block.
00000001 03 n 01 animal 0 002 ~ 00000002 n 0000 ~ 00000004 n 0000 | a living thing
00000002 05 n 02 Dog 0 domestic_dog 0 003 @ 00000001 n 0000 ~ 00000003 n 0000 + 00000009 v 0101 | a dog
00000003 05 n 01 Rex 0 002 @i 00000002 n 0000 @ 00000004 n 0000 | a famous dog
00000004 05 n 01 pet 0 002 @ 00000001 n 0000 ~ 00000003 n 0000 | a kept animal
00000005 05 n 01 dog 0 000 | another sense of dog
"""

FAKE_INDEX_NOUN = """\
  1 This header line is indented too.
animal n 1 1 ~ 1 0 00000001
dog n 2 1 @ 2 0 00000005 00000002
domestic_dog n 1 1 @ 1 0 00000002
pet n 1 1 @ 1 0 00000004
rex n 1 1 @ 1 0 00000003
"""


def test_build_script_parses_names_senses_and_both_hypernym_kinds(tmp_path):
    (tmp_path / "data.noun").write_text(FAKE_DATA_NOUN)
    (tmp_path / "index.noun").write_text(FAKE_INDEX_NOUN)
    graph = wordnet_build.read_noun_graph(tmp_path)
    # "dog" is sense 2 of the lemma dog: index.noun lists 00000005 first.
    assert graph.synset_ids == {
        "00000001": "animal.n.01", "00000002": "dog.n.02", "00000003": "rex.n.01",
        "00000004": "pet.n.01", "00000005": "dog.n.01",
    }
    assert wordnet_build.subtree_rows(graph, "animal.n.01") == [
        ("dog.n.02", "Dog", "animal.n.01", "animal"),
        ("pet.n.01", "pet", "animal.n.01", "animal"),
        ("rex.n.01", "Rex", "dog.n.02", "Dog"),
        ("rex.n.01", "Rex", "pet.n.01", "pet"),
    ]


def test_build_script_without_wordnet_says_what_to_install(tmp_path, capsys):
    assert wordnet_build.main(["--wordnet-dir", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "apt-get install wordnet-base" in err[0]


@pytest.mark.skipif(
    not (wordnet_build.WORDNET_DIR / "data.noun").is_file(), reason="needs Debian's wordnet-base"
)
def test_committed_assets_are_what_the_build_script_writes(tmp_path, capsys):
    assert wordnet_build.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "wordnet-mammal: root mammal.n.01, 1182 nodes, 1182 edges, 6542 closure pairs" in out
    assert "wordnet-noun: root entity.n.01, 82115 nodes, 84427 edges, 743241 closure pairs, max depth 18" in out
    for name in wordnet_build.WORDNET_SUBTREES:
        assert (tmp_path / f"{name}.tsv").read_bytes() == (ASSETS / "wordnet" / f"{name}.tsv").read_bytes()
    # gzip's bytes may differ between zlib versions; the text inside may not
    noun = "wordnet-noun.tsv.gz"
    assert gzip.decompress((tmp_path / noun).read_bytes()) == gzip.decompress((ASSETS / "wordnet" / noun).read_bytes())
