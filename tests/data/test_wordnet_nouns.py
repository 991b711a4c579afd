"""The whole WordNet 3.0 noun hierarchy shipped in assets/wordnet/wordnet-noun.tsv.gz: its shape,
label lookup (ids, wnids, lemmas), depths and ancestor paths, arcs between labels, the dataset."""

from __future__ import annotations

import csv
from collections import deque

import numpy as np
import pandas as pd
import pytest

from mmviz.data import registry, wordnet, wordnet_build
from mmviz.data.hierarchies import WORDNET_SUBTREES
from mmviz.errors import MmvizError
from mmviz.paths import ASSETS

DATA_NOUN = wordnet_build.WORDNET_DIR / "data.noun"


@pytest.fixture(scope="module")
def index():
    return wordnet.noun_index()


@pytest.fixture(scope="module")
def nouns():
    return registry.load("wordnet-noun")


def test_shipped_file_is_compact_and_holds_every_noun_synset(index):
    assert wordnet.NOUN_FILE.stat().st_size < 1.5 * 2**20
    assert len(index) == wordnet.NOUN_SYNSETS == 82_115
    assert len(set(index.ids)) == len(set(index.offsets)) == 82_115
    assert len(index.edges) == 84_427  # hypernym + instance-hypernym pointers
    assert index.ids[index.root] == "entity.n.01" and index.offsets[index.root] == "00001740"
    assert sum(len(lemmas) for lemmas in index.lemmas) == 146_347
    assert index.lemmas[index.row("dog.n.01")] == ("dog", "domestic_dog", "Canis_familiaris")


def test_dataset_is_a_single_rooted_dag_below_entity(nouns):
    assert len(nouns) == 82_115 and len(nouns.edges) == 84_427
    assert nouns.roots.tolist() == [0] and nouns.ids[0] == "entity.n.01"
    # Nickel & Kiela (2017): "82,115 nouns and 743,241 hypernymy relations" in the closure.
    assert len(nouns.closure) == wordnet.NOUN_CLOSURE_PAIRS == 743_241
    assert not (nouns.closure[:, 0] == nouns.closure[:, 1]).any()
    assert nouns.extras["is_tree"] is False
    assert int(nouns.depth.max()) == 18
    assert np.bincount(nouns.depth)[:5].tolist() == [1, 3, 22, 228, 2020]


@pytest.mark.parametrize(
    ("label", "synset", "depth"),
    [("entity", "entity.n.01", 0), ("physical entity", "physical_entity.n.01", 1), ("mammal", "mammal.n.01", 9),
     ("dog", "dog.n.01", 8), ("golden retriever", "golden_retriever.n.01", 12), ("car", "car.n.01", 10)],
)
def test_known_depths_agree_between_lookup_and_dataset(index, nouns, label, synset, depth):
    assert index.resolve(label) == synset
    assert index.depth[index.row(synset)] == depth
    assert nouns.depth[nouns.ids.index(synset)] == depth


def test_dog_ancestors_in_the_closure_and_on_the_shortest_path(nouns):
    dog = nouns.ids.index("dog.n.01")
    found = {nouns.ids[a] for d, a in nouns.closure if d == dog}
    assert len(found) == 14
    assert {"canine.n.02", "carnivore.n.01", "placental.n.01", "mammal.n.01", "domestic_animal.n.01",
            "animal.n.01", "entity.n.01"} <= found
    # The shortest way up is through domestic animal (8 steps), not canine (13).
    row = wordnet.label_table(["dog"]).iloc[0]
    assert row["wordnet_ancestors"] == ("entity > physical entity > object > whole > living thing > organism > "
                                        "animal > domestic animal")


@pytest.mark.skipif(not DATA_NOUN.is_file(), reason="needs Debian's wordnet-base for the independent check")
def test_every_depth_matches_a_breadth_first_search_of_data_noun(index):
    parents: dict[str, list[str]] = {}
    with DATA_NOUN.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(" "):
                continue
            fields = line.split(" | ", 1)[0].split()
            at = 4 + 2 * int(fields[3], 16)
            pointers = fields[at + 1:]
            parents[fields[0]] = [pointers[k + 1] for k in range(0, len(pointers), 4)
                                  if pointers[k] in ("@", "@i")]
    children: dict[str, list[str]] = {}
    for child, ups in parents.items():
        for parent in ups:
            children.setdefault(parent, []).append(child)
    depth = {"00001740": 0}
    queue = deque(["00001740"])
    while queue:
        node = queue.popleft()
        for child in children.get(node, []):
            if child not in depth:
                depth[child] = depth[node] + 1
                queue.append(child)
    assert len(depth) == len(parents) == len(index)
    assert depth["02084071"] == 8  # dog
    assert [depth[offset] for offset in index.offsets] == index.depth.tolist()
    assert sum(len(ups) for ups in parents.values()) == len(index.edges)


@pytest.mark.parametrize(
    ("label", "synset"),
    [("n02084071", "dog.n.01"), ("N02084071", "dog.n.01"), ("n01861778", "mammal.n.01"),
     ("n04037443", "racer.n.02"), ("dog.n.01", "dog.n.01"), ("Dog.N.01", "dog.n.01"), ("dog.n.03", "dog.n.03"),
     ("dog", "dog.n.01"), ("  Dog ", "dog.n.01"), ("domestic dog", "dog.n.01"), ("Canis familiaris", "dog.n.01"),
     ("golden retriever", "golden_retriever.n.01"), ("Golden_Retriever", "golden_retriever.n.01"),
     ("golden-retriever", "golden_retriever.n.01"), ("GOLDEN  RETRIEVER", "golden_retriever.n.01"),
     ("x-ray", "x_ray.n.01"), ("X ray", "x_ray.n.01"), ("New York", "new_york.n.01"),
     # a lemma of several synsets names its first sense in index.noun
     ("bank", "bank.n.01"), ("tabby", "tabby.n.01"), ("canine", "canine.n.01")],
)
def test_resolve_accepts_ids_wnids_and_lemma_spellings(index, label, synset):
    assert index.resolve(label) == synset


@pytest.mark.parametrize("label", ["", "   ", "qwxyzzy", "dog.n.99", "n99999999", "n0208407", "golden_retrieverz"])
def test_unknown_labels_resolve_to_none(index, label):
    assert index.resolve(label) is None


def test_missing_values_are_not_looked_up_as_text(index):
    assert index.resolve("nan") == "nan.n.01"  # a bread
    assert index.resolve(float("nan")) is None and index.resolve(None) is None


def test_label_table_has_one_row_per_label_and_na_for_unknown():
    table = wordnet.label_table(["golden retriever", "qwxyzzy", "n02084071", "entity", "Car"])
    assert list(table.columns) == ["wordnet_id", "wordnet_name", "wordnet_depth", "wordnet_ancestors"]
    assert table["wordnet_id"].tolist() == ["golden_retriever.n.01", None, "dog.n.01", "entity.n.01", "car.n.01"]
    assert table["wordnet_name"].tolist() == ["golden retriever", None, "dog", "entity", "car"]
    assert str(table["wordnet_depth"].dtype) == "Int64"
    assert table["wordnet_depth"].tolist() == [12, pd.NA, 8, 0, 10]
    assert table["wordnet_ancestors"][0].endswith("> dog > hunting dog > sporting dog > retriever")
    assert table["wordnet_ancestors"][1] is None and table["wordnet_ancestors"][3] == ""
    assert table["wordnet_ancestors"][4] == ("entity > physical entity > object > whole > artifact > instrumentality > "
                                             "container > wheeled vehicle > self-propelled vehicle > motor vehicle")
    assert len(wordnet.label_table([])) == 0


def test_label_arcs_link_each_label_to_its_nearest_labelled_ancestor():
    arcs = wordnet.label_arcs(["dog", "golden retriever", "animal", "car"])
    assert arcs.dtype == np.int64 and arcs.tolist() == [[0, 2], [1, 0]]  # car has no labelled ancestor
    # duplicates count once (first row), unknown labels get nothing; dog is 2 steps below animal, 4 below mammal
    arcs = wordnet.label_arcs(["golden retriever", "qwxyzzy", "dog.n.01", "Dog", "animal", "mammal"])
    assert arcs.tolist() == [[0, 2], [2, 4], [5, 4]]
    # dog's two hypernyms are both one step up: the tie goes to the one named first ("canine" alone
    # is its first sense, the tooth canine.n.01)
    assert wordnet.label_arcs(["dog", "domestic animal", "canine.n.02"]).tolist() == [[0, 1]]
    assert wordnet.label_arcs(["dog", "canine.n.02", "domestic animal"]).tolist() == [[0, 1]]
    assert wordnet.label_arcs(["car"]).shape == wordnet.label_arcs([]).shape == (0, 2)


def test_dataset_is_registered_and_takes_a_root_and_a_size(nouns):
    assert "wordnet-noun" in {info.name for info in registry.list_datasets("hierarchy")}
    mammal = registry.load("wordnet-mammal")
    part = registry.load("wordnet-noun", root="n01861778")
    assert part.ids == mammal.ids and np.array_equal(part.edges, mammal.edges)
    assert np.array_equal(part.closure, mammal.closure)
    first = registry.load("wordnet-noun", root="mammal", max_nodes="100")
    assert first.ids == mammal.ids[:100] and first.roots.tolist() == [0]
    top = registry.load("wordnet-noun", max_nodes=26)
    assert top.ids == nouns.ids[:26] and top.depth.tolist() == [0] + [1] * 3 + [2] * 22
    with pytest.raises(MmvizError, match="no noun synset 'qwxyzzy'"):
        registry.load("wordnet-noun", root="qwxyzzy")


@pytest.mark.parametrize("name", sorted(WORDNET_SUBTREES))
def test_shipped_subtree_files_are_parts_of_the_whole_hierarchy(index, name):
    with (ASSETS / "wordnet" / f"{name}.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[1:]
    full = {(index.ids[c], index.ids[p]) for c, p in index.edges.tolist()}
    edges = {(child, parent) for child, _, parent, _ in rows}
    assert edges <= full
    assert all(index.names[index.row(child)] == child_name for child, child_name, _, _ in rows)
    # and they are exactly the edges below their root
    below = wordnet.subtree(index, index.row(WORDNET_SUBTREES[name]))
    inside = {index.ids[r] for r in below}
    assert edges == {(c, p) for c, p in full if c in inside and p in inside}


# ----------------------------------------------------------------- the file format, on a tiny graph

def test_noun_file_round_trip_keeps_offsets_lemmas_and_senses(tmp_path):
    graph = wordnet_build.NounGraph(
        lemmas={"00000001": ["entity"], "00000002": ["Dog", "domestic_dog"], "00000003": ["dog"],
                "00000004": ["X-ray", "roentgen_ray"]},
        parents={"00000001": [], "00000002": ["00000001"], "00000003": ["00000001"], "00000004": ["00000001"]},
        synset_ids={},
        senses={("entity", "00000001"): 1, ("dog", "00000002"): 2, ("domestic_dog", "00000002"): 1,
                ("dog", "00000003"): 1, ("x-ray", "00000004"): 1, ("roentgen_ray", "00000004"): 1},
    )
    rows = wordnet_build.noun_rows(graph)
    assert rows[1] == ("00000002", "Dog:2 domestic_dog:1", "00000001")
    path = tmp_path / "nouns.tsv.gz"
    wordnet_build.write_noun_file(path, rows)
    first = path.read_bytes()
    wordnet_build.write_noun_file(path, rows)
    assert path.read_bytes() == first  # no time stamp: the same rows give the same bytes
    index = wordnet.read_noun_file(path)
    assert index.ids == ["dog.n.01", "dog.n.02", "entity.n.01", "x-ray.n.01"]
    assert index.names == ["dog", "Dog", "entity", "X-ray"]
    assert [index.resolve(s) for s in ("dog", "domestic dog", "n00000002", "x ray", "Roentgen-Ray")] == [
        "dog.n.01", "dog.n.02", "dog.n.02", "x-ray.n.01", "x-ray.n.01"]
    assert index.depth.tolist() == [1, 1, 0, 1]
