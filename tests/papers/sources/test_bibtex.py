import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser.library import Library
from bibtexparser.middlewares import LatexEncodingMiddleware
from bibtexparser.model import Entry, Field
from hypothesis import given
from hypothesis import strategies as st

from papers import sources
from papers.sources import PaperRecord, RecordError, SourceError, bibtex, ris

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
D2L = FIXTURES / "bibtex" / "d2l.bib"
DEMO = Path(__file__).resolve().parents[3] / "papers" / "demo"
DASH = "\u2013"  # LaTeX's "--"


@cache
def d2l() -> dict[str, PaperRecord | RecordError]:
    """The d2l.bib items by entry key."""
    items = list(bibtex.parse(D2L.read_bytes()))
    return {re.match(r"entry \d+ \(([^,]+),", item.position).group(1): item for item in items}


def parse(text: str) -> list[PaperRecord | RecordError]:
    return list(bibtex.parse(text.encode()))


def one(text: str) -> PaperRecord:
    [item] = parse(text)
    assert isinstance(item, PaperRecord), item
    return item


def test_d2l_gives_one_record_per_entry_and_no_errors():
    data = D2L.read_bytes()
    # Counted independently of the parser: every entry starts a line with "@type{", and
    # the file has no @string, @preamble or @comment blocks.
    entry_starts = re.findall(rb"^@(\w+)\s*\{", data, re.MULTILINE)
    assert len(entry_starts) == 488
    assert not {kind.lower() for kind in entry_starts} & {b"string", b"preamble", b"comment"}

    items = list(bibtex.parse(data))

    assert len(items) == 488
    assert all(isinstance(item, PaperRecord) for item in items)
    assert [item.position for item in items[:2]] == [
        "entry 1 (Abadi.Barham.Chen.ea.2016, line 1)",
        "entry 2 (Abdel-Hamid.Mohamed.Jiang.ea.2014, line 13)",
    ]


def test_capitalised_field_names_are_the_same_fields():
    # 12 entries of d2l.bib write `Title =`, `Author =`, `Year = 1998`; without folding the
    # field names they would all be entries without a title.
    assert len(re.findall(rb"^\s*Title\s*=", D2L.read_bytes(), re.MULTILINE)) == 12

    vapnik = d2l()["Vapnik98"]

    assert vapnik.title == "Statistical Learning Theory"
    assert vapnik.authors == ("V. Vapnik",)
    assert vapnik.published_at == datetime(1998, 1, 1, tzinfo=UTC)


def test_entry_types_in_any_case_are_records():
    items = d2l()

    assert items["Abadi.Barham.Chen.ea.2016"].title.startswith("TensorFlow")  # @InProceedings
    assert items["guyon2008feature"].title == "Feature Extraction: Foundations and Applications"
    assert one("@ARTICLE{k, title = {Upper}}").title == "Upper"


@pytest.mark.parametrize(
    ("key", "field", "expected"),
    [
        # Braces that protect capitals go, escapes become characters.
        (
            "Abadi.Barham.Chen.ea.2016",
            "title",
            "TensorFlow: A system for large-scale machine learning",
        ),
        (
            "Abdel-Hamid.Mohamed.Jiang.ea.2014",
            "title",
            "Convolutional neural networks for speech recognition",
        ),
        (
            "rae2021scaling",
            "title",
            "Scaling language models: Methods, analysis & insights from training gopher",
        ),
        (
            "Alsallakh.Kokhlikyan.Miglani.ea.2020",
            "title",
            f"Mind the PAD {DASH} CNNs can develop blind spots",
        ),
        (
            "Morey.Hoekstra.Rouder.ea.2016",
            "journal_ref",
            f"Psychonomic Bulletin & Review 23(1), 103{DASH}123 (2016)",
        ),
        (
            "Watson.1964",
            "journal_ref",
            f"Sankhyā: The Indian Journal of Statistics, Series A, 359{DASH}372 (1964)",
        ),
    ],
)
def test_latex_in_d2l_is_decoded(key, field, expected):
    assert getattr(d2l()[key], field) == expected


def test_latex_names_in_d2l():
    items = d2l()

    # {\'\i} is an accented dotless i; "and et al." is not an author.
    assert items["Abadi.Barham.Chen.ea.2016"].authors[:2] == ("Martín Abadi", "Paul Barham")
    assert len(items["Abadi.Barham.Chen.ea.2016"].authors) == 10
    assert "Łukasz Kaiser" in items["Vaswani.Shazeer.Parmar.ea.2017"].authors
    # A name wrapped over two lines of the file is one name.
    assert items["Ba.Kiros.Hinton.2016"].authors == (
        "Jimmy Lei Ba",
        "Jamie Ryan Kiros",
        "Geoffrey E Hinton",
    )
    # "and others" is BibTeX's et al.
    assert items["Mnih.Heess.Graves.ea.2014"].authors == (
        "Volodymyr Mnih",
        "Nicolas Heess",
        "Alex Graves",
    )


def test_arxiv_ids_in_d2l_journal_strings():
    items = d2l()
    # Counted independently: `journal = {Ar{X}iv:1607.06450}` and one
    # `journal = {arxiv.org/abs/2205.11916}`.
    mentions = re.findall(
        rb"Ar\{X\}iv:(\d{4}\.\d{4,5})|arxiv\.org/abs/(\d{4}\.\d{4,5})", D2L.read_bytes(), re.I
    )
    with_arxiv = [item for item in items.values() if item.arxiv_id]

    assert len(with_arxiv) == len(mentions) == 128
    assert items["Ba.Kiros.Hinton.2016"].arxiv_id == "1607.06450"
    assert items["Ba.Kiros.Hinton.2016"].journal_ref == ""  # arXiv is not a venue
    assert items["kojima2022large"].arxiv_id == "2205.11916"


def test_doi_and_url_in_d2l():
    items = d2l()

    review = items["10.1145/3544903.3544906"]
    assert review.doi == "10.1145/3544903.3544906"
    assert review.abs_url == "https://doi.org/10.1145/3544903.3544906"
    assert items["Goh.2017"].abs_url == "http://distill.pub/2017/momentum"
    assert sum(1 for item in items.values() if item.doi) == 1


@pytest.mark.parametrize(
    ("fields", "arxiv"),
    [
        # arXiv's own "Export BibTeX citation".
        ("eprint = {1706.03762}, archivePrefix = {arXiv}, primaryClass = {cs.CL}", "1706.03762"),
        ("eprint = {2401.12345v2}, eprinttype = {arxiv}", "2401.12345"),  # BibLaTeX
        ("eprint = {arXiv:hep-th/9901001}", "hep-th/9901001"),
        ("url = {https://arxiv.org/abs/2401.12345v3}", "2401.12345"),
        ("url = {http://arxiv.org/pdf/1412.6980.pdf}", "1412.6980"),
        ("journal = {arXiv preprint arXiv:2401.12345}", "2401.12345"),
        ("journal = {ArXiv e-prints}, note = {arXiv:1810.04805}", "1810.04805"),
        ("journal = {CoRR}, volume = {abs/1512.03385}", "1512.03385"),  # DBLP
        ("doi = {10.48550/ARXIV.2106.09685}", "2106.09685"),
        # An eprint of another archive is not an arXiv id.
        ("eprint = {1234.5678}, archivePrefix = {HAL}", None),
        ("journal = {arXiv preprint}", None),
    ],
)
def test_arxiv_ids(fields, arxiv):
    record = one(f"@misc{{k, title = {{T}}, {fields}}}")

    assert record.arxiv_id == arxiv


def test_arxiv_version_category_and_no_arxiv_doi():
    record = one(
        "@article{k, title = {T}, eprint = {2401.12345v2}, archivePrefix = {arXiv},\n"
        " primaryClass = {cs.LG}, doi = {10.48550/arXiv.2401.12345}}"
    )

    assert (record.arxiv_id, record.arxiv_version) == ("2401.12345", 2)
    assert record.categories == ("cs.LG",)
    # The arXiv DOI only restates the id; `doi` is kept for the publisher's DOI.
    assert record.doi is None


@pytest.mark.parametrize(
    ("fields", "doi"),
    [
        ("doi = {10.1109/CVPR.2016.90}", "10.1109/cvpr.2016.90"),
        (
            "DOI = {https://doi.org/10.1016/B978-0-12-814515-9.00046-1}",
            "10.1016/b978-0-12-814515-9.00046-1",
        ),
        ("doi = {doi:10.1038/nature14539}", "10.1038/nature14539"),
        ("doi = {10.1002/(SICI)1097-4571\\_x}", "10.1002/(sici)1097-4571_x"),
        ("url = {https://dx.doi.org/10.1038/nature14539}", "10.1038/nature14539"),
        ("url = {https://example.org/10.1038/nature14539}", None),
        ("doi = {not a doi}", None),
    ],
)
def test_dois(fields, doi):
    assert one(f"@article{{k, title = {{T}}, {fields}}}").doi == doi


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        (
            "Hinton, Geoffrey E. and Salakhutdinov, Ruslan R.",
            ("Geoffrey E. Hinton", "Ruslan R. Salakhutdinov"),
        ),
        ("Geoffrey Hinton and Yann LeCun", ("Geoffrey Hinton", "Yann LeCun")),
        ("{Google DeepMind} and Vinyals, Oriol", ("Google DeepMind", "Oriol Vinyals")),
        ("{Barnes and Noble} and others", ("Barnes and Noble",)),
        (
            "van der Maaten, Laurens and Hinton, Geoffrey",
            ("Laurens van der Maaten", "Geoffrey Hinton"),
        ),
        ("King, Jr, Martin Luther", ("Martin Luther King Jr",)),
        ('Sch{\\"o}lkopf, Bernhard', ("Bernhard Schölkopf",)),
        ("", ()),
    ],
)
def test_author_names(author, expected):
    assert one(f"@article{{k, title = {{T}}, author = {{{author}}}}}").authors == expected


def test_a_stray_brace_in_a_quoted_name_costs_nothing():
    record = one('@article{k, title = {T}, author = "Roe, Richard and Doe}, Jane"}')

    assert record.authors == ("Richard Roe", "Jane Doe")


@pytest.mark.parametrize(
    ("fields", "published"),
    [
        ("year = 2017", datetime(2017, 1, 1, tzinfo=UTC)),
        ("year = {2017}, month = aug", datetime(2017, 8, 1, tzinfo=UTC)),
        ("year = {2017}, month = {August}", datetime(2017, 8, 1, tzinfo=UTC)),
        ("year = {2017}, month = {12}", datetime(2017, 12, 1, tzinfo=UTC)),
        ("year = {2017}, month = {2017}", datetime(2017, 1, 1, tzinfo=UTC)),  # EndNote
        ("date = {2021-06-17}", datetime(2021, 6, 17, tzinfo=UTC)),  # BibLaTeX
        ("date = {2021-06}", datetime(2021, 6, 1, tzinfo=UTC)),
        ("year = {to appear}", None),
        ("", None),
    ],
)
def test_publication_dates(fields, published):
    assert one(f"@article{{k, title = {{T}}, {fields}}}").published_at == published


def test_journal_ref_links_and_keywords():
    record = one(
        "@inproceedings{k, title = {T}, booktitle = {Proceedings of {CVPR}}, volume = {1},\n"
        " number = {2}, pages = {770-778}, year = {2016}, keywords = {vision; residual, deep},\n"
        " url = {https://github.com/KaimingHe/deep-residual-networks},\n"
        " projectpage = {https://example.org/resnet}}"
    )

    assert record.journal_ref == f"Proceedings of CVPR 1(2), 770{DASH}778 (2016)"
    assert record.keywords == ("vision", "residual", "deep")
    assert record.code_url == "https://github.com/KaimingHe/deep-residual-networks"
    assert record.abs_url == ""
    assert record.project_url == "https://example.org/resnet"


def test_a_website_with_a_title_is_a_record():
    record = one(
        "@misc{pytorch, title = {{PyTorch} documentation},\n"
        " howpublished = {\\url{https://pytorch.org/docs/stable/index.html}}}"
    )

    assert record.title == "PyTorch documentation"
    assert record.abs_url == "https://pytorch.org/docs/stable/index.html"


def test_bare_percent_and_ampersand_are_text_not_latex():
    # EndNote writes abstracts without escaping; to LaTeX "%" would start a comment.
    record = one(
        "@article{k, title = {Q{\\&}A at 95% recall}, abstract = {R&D: 95% of {DNA} -- kept.}}"
    )

    assert record.title == "Q&A at 95% recall"
    assert record.abstract == f"R&D: 95% of DNA {DASH} kept."


def test_entries_without_a_title_are_errors():
    items = parse(
        "@book{Vapnik95, author = {Vapnik, Vladimir}, year = {1995}}\n"
        "@online{site, url = {https://example.org}}\n"
        "@article{empty, title = {{ }}}\n"
        "@book{ok, title = {The Nature of Statistical Learning Theory}}\n"
    )

    assert items[:3] == [
        RecordError("entry 1 (Vapnik95, line 1)", "the entry has no title; add a title field"),
        RecordError("entry 2 (site, line 2)", "the entry has no title; add a title field"),
        RecordError("entry 3 (empty, line 3)", "the entry has no title; add a title field"),
    ]
    assert items[3].title == "The Nature of Statistical Learning Theory"


def test_a_broken_entry_among_good_ones():
    items = parse(
        "@article{first, title = {First paper}, year = {2020}}\n"
        "\n"
        "@article{broken, title = {Missing its closing brace, year = {2021}\n"
        "\n"
        "@article{third, title = {Third paper}, year = {2022}}\n"
        "@article{fourth title = {No comma after the key}}\n"
        "@article{fifth, title = {Fifth paper}}\n"
    )

    assert [type(item).__name__ for item in items] == [
        "PaperRecord",
        "RecordError",
        "PaperRecord",
        "RecordError",
        "PaperRecord",
    ]
    assert items[1].position == "entry 2 (broken, line 3)"
    assert "not valid BibTeX" in items[1].message
    assert items[3].position.startswith("entry 4 (")
    assert [items[0].title, items[2].title, items[4].title] == [
        "First paper",
        "Third paper",
        "Fifth paper",
    ]


def test_a_file_cut_short_keeps_the_complete_entries():
    items = parse("@article{a, title = {Whole}}\n@article{b, title = {Cut sh")

    assert items[0].title == "Whole"
    assert isinstance(items[1], RecordError)
    assert "end of file" in items[1].message


def test_duplicate_keys_and_fields():
    items = parse(
        "@article{same, title = {First}}\n"
        "@article{same, title = {Second}}\n"
        "@article{twice, title = {A}, title = {B}}\n"
    )

    assert items[0].title == "First"
    assert items[1] == RecordError(
        "entry 2 (same, line 2)",
        "the key 'same' is used twice (first at line 1); rename one of them",
    )
    assert items[2] == RecordError(
        "entry 3 (twice, line 3)",
        "the entry gives the field(s) title more than once; keep one of each",
    )


def test_a_string_defined_twice_is_reported():
    items = parse("@string{venue = {First}}\n@string{venue = {Second}}\n@article{k, title = {T}}\n")

    assert items == [
        RecordError(
            "line 2", "the @string 'venue' is used twice (first at line 1); rename one of them"
        ),
        items[1],
    ]
    assert items[1].title == "T"


def test_string_preamble_and_comment_blocks_are_not_records():
    items = parse(
        '@preamble{"\\newcommand{\\noop}[1]{}"}\n'
        "@comment{jabref-meta: databaseType:bibtex;}\n"
        '@string{neurips = "Advances in Neural Information Processing Systems"}\n'
        "@inproceedings{k, title = {T}, booktitle = neurips, year = 2017}\n"
    )

    assert len(items) == 1
    assert items[0].position == "entry 1 (k, line 4)"
    assert items[0].journal_ref == "Advances in Neural Information Processing Systems (2017)"


def test_latex_too_deep_to_decode_costs_only_its_entry():
    items = parse(
        "@article{deep, title = {" + "{" * 3000 + "x" + "}" * 3000 + "}}\n"
        "@article{fine, title = {Fine}}\n"
    )

    assert items[0].position == "entry 1 (deep, line 1)"
    assert "cannot be read as LaTeX" in items[0].message
    assert items[1].title == "Fine"


def test_bom_crlf_and_comment_lines_before_the_first_entry():
    data = (
        b"\xef\xbb\xbf% Exported by a reference manager\r\n\r\n"
        b"@article{RN1,\r\n   title = {A title\r\n on two lines},\r\n   year = {2020}\r\n}\r\n"
    )

    assert bibtex.looks_like(data)
    [record] = bibtex.parse(data)
    assert record.title == "A title on two lines"
    assert record.position == "entry 1 (RN1, line 3)"


@pytest.mark.parametrize(
    "data",
    [
        b"@article{k, title={T}}",
        b"\xef\xbb\xbf@Article{k,",
        b"% comment\n\n  @inproceedings (k, title = {T})",
        b"@string{x = {y}}\n@article{k, title = x}",
    ],
)
def test_looks_like_bibtex(data):
    assert bibtex.looks_like(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        (DEMO / "hf-papers-listing-language-models.txt").read_bytes(),
        b'[{"paper": {"id": "2401.00001", "title": "@article{x,"}}]',
        b'{"id": "2401.00001", "title": "A"}\n{"id": "2401.00002", "title": "B"}\n',
        b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"></feed>',
        b"TY  - JOUR\nTI  - A paper\nER  - \n",
        b"Some notes\n@article{k, title={T}}",
        b"@ article{k, title={T}}",
    ],
)
def test_looks_like_other_formats(data):
    assert not bibtex.looks_like(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\n  \n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("@article{k, title = {Caf\xe9}}".encode("latin-1"), "save it as UTF-8 BibTeX"),
        (b'[{"paper": {"id": "2401.00001"}}]', "no BibTeX entries"),
        (b"% only a comment\n@comment{nothing here}\n@string{a = {b}}\n", "no BibTeX entries"),
    ],
)
def test_unreadable_input_is_refused_up_front(data, message):
    with pytest.raises(SourceError, match=message):
        bibtex.parse(data)


def test_bibtex_is_recognised_by_its_content():
    assert sources.detect(D2L.read_bytes()) is bibtex


def test_the_other_parser_refuses_bibtex():
    with pytest.raises(SourceError, match="not RIS"):
        ris.parse(D2L.read_bytes())


@pytest.mark.parametrize("latex_encode", [False, True], ids=["utf-8", "latex-encoded"])
def test_round_trip_through_bibtexparsers_writer(latex_encode):
    # What a reading-list export will write; the parser must read back the same paper.
    fields = {
        "title": "Schrödinger's cat & 100% of DNA: a study",
        "author": "Jürgen Schmidhuber and Łukasz Kaiser",
        "journal": "Journal of Ünusual Results",
        "volume": "12",
        "number": "3",
        "pages": "45--67",
        "year": "2024",
        "month": "mar",
        "doi": "10.1000/xyz_123",
        "eprint": "2403.01234",
        "archiveprefix": "arXiv",
        "url": "https://example.org/papers/a_b?x=1%202",
    }
    library = Library([Entry("article", "k", [Field(key, value) for key, value in fields.items()])])
    middleware = [LatexEncodingMiddleware()] if latex_encode else []
    written = bibtexparser.write_string(library, prepend_middleware=middleware)

    [record] = bibtex.parse(written.encode())

    assert record.title == "Schrödinger's cat & 100% of DNA: a study"
    assert record.authors == ("Jürgen Schmidhuber", "Łukasz Kaiser")
    assert record.journal_ref == f"Journal of Ünusual Results 12(3), 45{DASH}67 (2024)"
    assert record.published_at == datetime(2024, 3, 1, tzinfo=UTC)
    assert record.doi == "10.1000/xyz_123"
    assert record.arxiv_id == "2403.01234"
    assert record.abs_url == "https://example.org/papers/a_b?x=1%202"


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_declared_errors(data):
    try:
        items = list(bibtex.parse(data))
    except SourceError:
        return
    assert all(isinstance(item, PaperRecord | RecordError) for item in items)


@given(
    start=st.integers(0, D2L.stat().st_size - 1),
    length=st.integers(0, 4000),
    edits=st.lists(
        st.tuples(
            st.integers(0, 4000),
            st.integers(0, 40),
            st.binary(max_size=4) | st.sampled_from([b"{", b"}", b"@", b'"', b",", b"\\", b"%"]),
        ),
        max_size=6,
    ),
)
def test_cut_and_mutated_real_bibtex_gives_records_or_declared_errors(start, length, edits):
    data = bytearray(D2L.read_bytes()[start : start + length])
    for at, removed, inserted in edits:
        at = min(at, len(data))
        data[at : at + removed] = inserted

    try:
        items = list(bibtex.parse(bytes(data)))
    except SourceError:
        return
    assert all(isinstance(item, PaperRecord | RecordError) for item in items)
