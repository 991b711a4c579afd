"""Build the WordNet noun data that mmviz ships: ``python -m mmviz.data.wordnet_build``.

Reads WordNet 3.0 as Debian's ``wordnet-base`` installs it (``/usr/share/wordnet``) and
writes ``assets/wordnet/<dataset>.tsv`` for each subtree: one row per direct (child, parent)
edge inside the subtree, columns ``child_id, child_name, parent_id, parent_name``, sorted;
and ``assets/wordnet/wordnet-noun.tsv.gz``, the whole noun hierarchy with every synset's
offset and lemmas (format in :mod:`mmviz.data.wordnet`).

Conventions (they reproduce the counts of Nickel & Kiela's mammal closure):

- A subtree is its root synset plus every synset below it through hypernym (``@``)
  *and* instance-hypernym (``@i``) pointers.
- Every direct edge whose two ends are both inside the subtree is kept, so a synset with
  two hypernyms inside the subtree has two rows (the subtree can be a DAG).
- Ids are synset names ``lemma.n.NN``: the synset's first lemma, lower-cased, and NN the
  1-based position of the synset in that lemma's offset list in ``index.noun``.
- Readable names are the first lemma with underscores turned into spaces.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from mmviz.data.hierarchies import TSV_COLUMNS, WORDNET_SUBTREES, read_wordnet_tsv
from mmviz.data.wordnet import NOUN_COLUMNS, NOUN_FILE, NOUN_ROOT, build_hierarchy, read_noun_file
from mmviz.paths import ASSETS

WORDNET_DIR = Path("/usr/share/wordnet")

# Pointer symbols that make the "is a" hierarchy: hypernym and instance hypernym.
HYPERNYM_POINTERS = ("@", "@i")


@dataclass
class NounGraph:
    """The WordNet noun hierarchy keyed by synset offset (an 8-digit string)."""

    lemmas: dict[str, list[str]]
    parents: dict[str, list[str]]
    synset_ids: dict[str, str]
    senses: dict[tuple[str, str], int] = field(default_factory=dict)
    """(lemma lower-cased, offset) → the synset's 1-based sense number for that lemma."""

    def readable_name(self, offset: str) -> str:
        return self.lemmas[offset][0].replace("_", " ")

    def children(self) -> dict[str, list[str]]:
        """Offset → offsets of its direct hyponyms and instance hyponyms."""
        out: dict[str, list[str]] = {}
        for child, parents in self.parents.items():
            for parent in parents:
                out.setdefault(parent, []).append(child)
        return out

    def offset_of(self, synset_id: str) -> str:
        for offset, sid in self.synset_ids.items():
            if sid == synset_id:
                return offset
        raise KeyError(f"no noun synset {synset_id!r} in WordNet")


def _data_lines(path: Path):
    """Lines of a WordNet database file, without the license header (indented lines)."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith(" "):
                yield line


def parse_data_noun(path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Parse ``data.noun``: offset → lemmas (in order), offset → hypernym offsets.

    A line reads ``offset lex_filenum ss_type w_cnt(hex) [word lex_id]... p_cnt(decimal)
    [symbol target_offset pos source/target]... | gloss``.
    """
    lemmas: dict[str, list[str]] = {}
    parents: dict[str, list[str]] = {}
    for line in _data_lines(path):
        fields = line.split(" | ", 1)[0].split()
        offset = fields[0]
        word_count = int(fields[3], 16)
        lemmas[offset] = fields[4 : 4 + 2 * word_count : 2]
        at = 4 + 2 * word_count
        pointer_count = int(fields[at])
        at += 1
        hypernyms = []
        for _ in range(pointer_count):
            symbol, target, pos = fields[at], fields[at + 1], fields[at + 2]
            at += 4
            if symbol in HYPERNYM_POINTERS and pos == "n":
                hypernyms.append(target)
        parents[offset] = hypernyms
    return lemmas, parents


def parse_index_noun(path: Path) -> dict[tuple[str, str], int]:
    """Parse ``index.noun``: (lemma, offset) → sense number (1-based).

    A line reads ``lemma pos synset_cnt p_cnt [symbol]... sense_cnt tagsense_cnt
    [offset]...`` with the synset offsets last, in sense order.
    """
    senses: dict[tuple[str, str], int] = {}
    for line in _data_lines(path):
        fields = line.split()
        lemma, synset_count = fields[0], int(fields[2])
        for number, offset in enumerate(fields[len(fields) - synset_count :], start=1):
            senses[(lemma, offset)] = number
    return senses


def read_noun_graph(wordnet_dir: Path = WORDNET_DIR) -> NounGraph:
    """The noun hierarchy of the WordNet database in ``wordnet_dir``."""
    lemmas, parents = parse_data_noun(wordnet_dir / "data.noun")
    senses = parse_index_noun(wordnet_dir / "index.noun")
    synset_ids = {}
    for offset, words in lemmas.items():
        lemma = words[0].lower()
        synset_ids[offset] = f"{lemma}.n.{senses[(lemma, offset)]:02d}"
    return NounGraph(lemmas, parents, synset_ids, senses)


def subtree_rows(graph: NounGraph, root_id: str) -> list[tuple[str, str, str, str]]:
    """Rows (child_id, child_name, parent_id, parent_name) of every edge under ``root_id``, sorted."""
    children = graph.children()
    root = graph.offset_of(root_id)
    inside = {root}
    queue = deque([root])
    while queue:
        for child in children.get(queue.popleft(), []):
            if child not in inside:
                inside.add(child)
                queue.append(child)
    rows = []
    for child in inside:
        for parent in graph.parents[child]:
            if parent in inside:
                rows.append((
                    graph.synset_ids[child], graph.readable_name(child),
                    graph.synset_ids[parent], graph.readable_name(parent),
                ))
    return sorted(rows)


def write_tsv(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """Write ``rows`` under a header line; tab-separated, ``\\n`` line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(TSV_COLUMNS)] + ["\t".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def noun_rows(graph: NounGraph) -> list[tuple[str, str, str]]:
    """Rows (offset, lemmas as ``lemma:sense``, parent offsets) of every synset, in offset order."""
    return [
        (offset, " ".join(f"{lemma}:{graph.senses[(lemma.lower(), offset)]}" for lemma in words),
         " ".join(graph.parents[offset]))
        for offset, words in sorted(graph.lemmas.items())
    ]


def write_noun_file(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """Write ``rows`` under a header line, gzip'd (level 9, no name or time stamp in the header)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(["\t".join(NOUN_COLUMNS)] + ["\t".join(row) for row in rows]) + "\n"
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as out:
        out.write(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmviz.data.wordnet_build", description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet-dir", type=Path, default=WORDNET_DIR, help="WordNet 3.0 database folder")
    parser.add_argument("--out", type=Path, default=ASSETS / "wordnet", help="folder for the .tsv and .tsv.gz files")
    args = parser.parse_args(argv)
    if not (args.wordnet_dir / "data.noun").is_file():
        print(f"error: no WordNet 3.0 database at {args.wordnet_dir}; apt-get install wordnet-base", file=sys.stderr)
        return 1

    graph = read_noun_graph(args.wordnet_dir)
    for name, root_id in WORDNET_SUBTREES.items():
        path = args.out / f"{name}.tsv"
        write_tsv(path, subtree_rows(graph, root_id))
        tree = read_wordnet_tsv(path, name)
        print(
            f"{name}: root {root_id}, {len(tree)} nodes, {len(tree.edges)} edges, "
            f"{len(tree.closure)} closure pairs, max depth {int(tree.depth.max())}, "
            f"{path.stat().st_size / 1024:.0f} KiB -> {path}"
        )
    path = args.out / NOUN_FILE.name
    write_noun_file(path, noun_rows(graph))
    index = read_noun_file(path)
    tree = build_hierarchy(index, index.root)
    print(
        f"wordnet-noun: root {NOUN_ROOT}, {len(tree)} nodes, {len(tree.edges)} edges, "
        f"{len(tree.closure)} closure pairs, max depth {int(tree.depth.max())}, "
        f"{path.stat().st_size / 1024:.0f} KiB -> {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
