"""A reader for any LangChain chat model: the question's kind first, then a prompt for that kind, then checks.

1. **Kind.** Yes/no questions, totals and "which is larger" are told by their grammar (``qa.polarity``,
   ``qa.arithmetic``); the model classifies the rest (difference, comparison, count, list, overview,
   fact): one short prompt whose answer is one letter, judged by the letters' token probabilities
   when the model reports them (``logprobs``), else by the letter it wrote.
2. **What the model does.** Only what quoting cannot: judging yes or no, listing the items of a
   total, difference, comparison, count or list, and an overview the extractive reader has none of.
   A single fact stays the extractive reader's (quoted from the clause that states it, or refused), as
   does an overview or "why" it answers and a yes/no question it refuses: on dev the model's rewording
   gained no key fact, lost some, took a wrong premise for true, said yes to a question no passage
   answers, and took seconds (docs/LOCAL_MODEL.md).
3. **Answer.** Passages are numbered and fenced as data. A yes/no question that the extractive evidence
   settles (a corrected amount or name, a sentence holding every term: ``qa.polarity``) is answered so
   without the model; otherwise it is judged by the probability of "Yes" against "No" and backed by the
   extractive evidence. Totals, differences, comparisons and counts are computed by code from the items
   the model lists, each item checked against the passage it cites; overviews are checked sentence by
   sentence (``qa.readers.checks``).
4. **Fallback.** Whatever goes wrong (a timeout, a missing model, no supported sentence, the wrong
   language, nonsense) gives the extractive draft, with the reason logged in one line. When the
   extractive checks abstained because the documents lack the named thing or the kind of fact asked
   for, the model is not asked at all; nor when the extractive reader already computed a total or a
   comparison from the documents' items (``qa.aggregate``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Generator, Iterator
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from qa.answerability import unknown_names
from qa.arithmetic import arithmetic
from qa.compose import has_type, latest_year
from qa.manifest import load_manifest
from qa.polarity import YES_NO_WORDS, evidence_lead, is_yes_no
from qa.readers.base import Draft, ReadRequest, Sentence
from qa.readers.checks import NO_ANSWER, Claim, Item, amount_of, attribute, claims, computed, unsupported
from qa.readers.prompts import (
    CLASSIFY,
    CLASSIFY_EXAMPLES,
    EXAMPLE_PASSAGES,
    EXAMPLES,
    KINDS,
    LANGUAGE,
    PROMPTS,
    RULES,
    user_turn,
)

Written = Generator[str, None, "Draft | None"]  # text as the model writes it; returns the checked draft, or None
log = logging.getLogger("qa.readers.chat_model")

YES_THRESHOLD = 0.5  # P(yes) / (P(yes) + P(no)); see docs/LOCAL_MODEL.md
MAX_PASSAGES = {"yesno": 2}  # other kinds get every retrieved passage
MAX_PASSAGE_CHARS = 900
TIMEOUT = 30.0
COUNTED = frozenset({"count"})

GRAMMAR_KINDS = {"sum": "sum", "superlative": "compare", "comparison": "yesno"}  # qa.arithmetic's kinds
def _first_token_probabilities(message: BaseMessage) -> dict[str, float]:
    """Probabilities of the first generated token's alternatives (OpenAI ``logprobs`` shape), by stripped text."""
    content = (message.response_metadata.get("logprobs") or {}).get("content") or []
    found: dict[str, float] = {}
    for option in (content[0].get("top_logprobs") or [content[0]]) if content else []:
        token = str(option.get("token", "")).strip()
        found[token] = max(found.get(token, 0.0), math.exp(option.get("logprob", -100.0)))
    return found


class ChatModelReader:
    """Reads with a LangChain chat model; ``name`` is what answers show as their reader."""

    caches_prompts = False  # True when the model runs here with a prompt cache that ``prime`` fills

    def __init__(self, model: Any, name: str | None = None, timeout: float = TIMEOUT) -> None:
        self.model = model
        model_id = getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
        self.name = name or f"llm:{model_id}"
        self.timeout = timeout

    # -- the interface

    def read(self, request: ReadRequest, config: RunnableConfig | None = None) -> Draft:
        draft = request.baseline
        for item in self.stream(request, config):
            if isinstance(item, Draft):
                draft = item
        return draft

    def stream(self, request: ReadRequest, config: RunnableConfig | None = None) -> Iterator[str | Draft]:
        if reason := self.known_missing(request):
            log.info("kept the extractive abstention (%s)", reason)
            yield request.baseline
            return
        if request.baseline.computed:  # a total or comparison code computed from the cited items
            log.info("kept the extractive answer computed from the documents' items")
            yield request.baseline
            return
        deadline = time.monotonic() + self.timeout
        try:
            kind = self.kind(request, config)
            if self.extractive_stands(kind, request.baseline):
                log.info("kept the extractive %s (a %s question)", "abstention" if request.baseline.abstained
                         else "brief" if request.baseline.brief else "answer", kind)
                yield request.baseline
                return
            draft = yield from self._answer(kind, request, config, deadline)
        except Exception as err:  # a failing model never fails the answer: the extractive one stands
            log.warning("%s failed, extractive answer used: %s: %s", self.name, type(err).__name__, err)
            yield request.baseline
            return
        if draft is None:
            yield request.baseline
            return
        draft.reader = self.name
        yield draft

    # -- decisions

    @staticmethod
    def known_missing(request: ReadRequest) -> str:
        """Why the extractive checks' abstention stands ("" when the model may try): the question names
        something the documents never mention, or asks a kind of fact no retrieved passage holds (a count
        need not be written anywhere: the reader counts the items listed)."""
        if not request.baseline.abstained:
            return ""
        query, store = request.query, request.store
        if names := unknown_names(query, store):
            return f"the documents never name {', '.join(sorted(names))}"
        if query.answer_type and query.answer_type not in COUNTED:
            after = latest_year(store) if query.future else 0
            texts = [store.chunks[h.chunks[query.lang]].text for h in request.hits if query.lang in h.chunks]
            if not any(has_type(t, query.answer_type, after) for t in texts):
                return f"no retrieved passage holds a {query.answer_type}"
        return ""

    @staticmethod
    def extractive_stands(kind: str, baseline: Draft) -> bool:
        """The extractive draft answers a question of this kind as well as the model would: a single fact
        (found and quoted, or refused), an overview or "why" it has an answer to, and a yes/no question
        no passage answers (the model would judge a passage that does not hold what is asked)."""
        return kind == "fact" or (kind == "broad" and not baseline.abstained) or (
            kind == "yesno" and baseline.abstained)

    def _letters(self, question: str, config: RunnableConfig | None) -> tuple[dict[str, float], str]:
        """The kind letters' probabilities for ``question`` (empty when the model reports none), and its reply."""
        reply = self.model.invoke([*self._classifier_prefix(), HumanMessage(question)], config=config, max_tokens=1,
                                  logprobs=True, top_logprobs=10)
        probabilities = _first_token_probabilities(reply)
        return {k: p for k, p in probabilities.items() if k in KINDS}, str(reply.content).strip()[:1]

    @staticmethod
    def _classifier_prefix() -> list[BaseMessage]:
        messages: list[BaseMessage] = [SystemMessage(CLASSIFY)]
        for example, letter in CLASSIFY_EXAMPLES:
            messages += [HumanMessage(example), AIMessage(letter)]
        return messages

    def kind(self, request: ReadRequest, config: RunnableConfig | None) -> str:
        """The question's kind: yes/no, a total or the larger of several when its grammar says so
        (``qa.polarity``, ``qa.arithmetic``); else as the model classifies it, the most probable letter other
        than yes/no, or the letter it wrote when it gives no probabilities."""
        query = request.query
        if is_yes_no(query.text, query.lang):
            log.info("question kind yesno (by grammar)")
            return "yesno"
        if asked := arithmetic(query.asked, query.lang, query.answer_type):
            log.info("question kind %s (by grammar)", GRAMMAR_KINDS[asked.kind])
            return GRAMMAR_KINDS[asked.kind]
        letters, written = self._letters(request.query.text, config)
        letters = {k: p for k, p in letters.items() if KINDS[k] != "yesno"}
        kind = KINDS.get(max(letters, key=lambda k: letters[k]) if letters else written, "fact")
        log.info("question kind %s (%s)", kind, ", ".join(f"{k}={p:.2f}" for k, p in sorted(letters.items())))
        return kind

    # -- prompting

    def passages(self, request: ReadRequest, kind: str) -> list[int]:
        """Chunk indices given to the model: the retrieved passages in the question's language, best first."""
        lang = request.query.lang
        chunks = [h.chunks[lang] for h in request.hits if lang in h.chunks]
        return chunks[: MAX_PASSAGES.get(kind, len(chunks))]

    def messages(self, prompt: str, request: ReadRequest, passages: list[int]) -> list[BaseMessage]:
        """The kind's rules (a fixed system prompt, so its cache is reused), then the fenced passages and
        the question."""
        store, query = request.store, request.query
        manifest = load_manifest(store.settings.corpus_dir)
        fenced = "\n".join(
            f'<passage n="{n}" source="{manifest.label(store.chunks[i].doc, query.lang)}">\n'
            f"{store.chunks[i].text[:MAX_PASSAGE_CHARS]}\n</passage>"
            for n, i in enumerate(passages, 1)
        )
        previous = f"(Previous question: {query.history_question})\n" if query.history_question else ""
        return [*self.prefix(prompt, query.lang), HumanMessage(user_turn(fenced, previous, query.text))]

    @staticmethod
    def prefix(prompt: str, lang: str) -> list[BaseMessage]:
        """The fixed start of a prompt: its rules and its worked example in ``lang`` (the same for every
        question, so the runtime's prompt cache reuses it)."""
        system = PROMPTS[prompt].format(language=LANGUAGE[lang]) + "\n" + RULES
        example_question, example_answer = EXAMPLES[prompt][lang]
        return [SystemMessage(system), HumanMessage(user_turn(EXAMPLE_PASSAGES[lang], "", example_question)),
                AIMessage(example_answer)]

    def prime(self, languages: tuple[str, ...] = tuple(LANGUAGE), config: RunnableConfig | None = None) -> None:
        """Read every fixed prompt start once (the classifier's, and each prompt's in each language) so that
        a runtime with a prompt cache reads only passages and questions afterwards."""
        started = time.perf_counter()
        starts = [self._classifier_prefix()] + [self.prefix(p, lang) for lang in languages for p in PROMPTS]
        for messages in starts:
            self.model.invoke([*messages, HumanMessage("")], config=config, max_tokens=1)
        log.info("read %d prompt starts in %.1f s", len(starts), time.perf_counter() - started)

    def _generate(self, messages: list[BaseMessage], config: RunnableConfig | None, deadline: float,
                  text: list[str]) -> Iterator[str]:
        """Stream the model's text into ``text``, yielding each piece; TimeoutError past the deadline."""
        for chunk in self.model.stream(messages, config=config):
            piece = chunk.content if isinstance(chunk.content, str) else ""
            if piece:
                text.append(piece)
                yield piece
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete answer within {self.timeout:.0f} s")

    # -- the kinds

    def _answer(self, kind: str, request: ReadRequest, config: RunnableConfig | None,
                deadline: float) -> Written:
        if kind == "yesno":
            return (yield from self._yes_no(request, config))
        if kind in ("sum", "difference", "compare", "count", "list"):
            return (yield from self._items(kind, request, config, deadline))
        return (yield from self._written(kind, request, config, deadline))

    def _checked(self, text: str, request: ReadRequest, passages: list[int]) -> list[Claim]:
        found, dropped = claims(text, passages)
        kept = []
        for claim in found:
            reason = unsupported(claim, request.store, request.query.lang) if claim.chunks else f"cites nothing: {claim.text[:60]!r}"
            if not reason:
                kept.append(claim)
            elif attributed := attribute(claim, passages, request.store, request.query.lang):
                kept.append(attributed)  # the passage that supports it, whatever the model cited
            else:
                dropped.append(reason)
        for reason in dropped:
            log.info("dropped a sentence: %s", reason)
        return kept

    def _sentences(self, kept: list[Claim], request: ReadRequest) -> list[Sentence]:
        return [Sentence(c.text, c.chunks, request.store.chunks[c.chunks[0]].doc, attributed=True) for c in kept]

    def _written(self, kind: str, request: ReadRequest, config: RunnableConfig | None,
                 deadline: float) -> Written:
        """An overview: the model writes, every sentence is checked."""
        passages = self.passages(request, kind)
        if not passages:
            return None
        text: list[str] = []
        yield from self._generate(self.messages(kind, request, passages), config, deadline, text)
        answer = "".join(text)
        if NO_ANSWER in answer:
            log.info("the model found no answer in the passages; extractive answer used")
            return None
        kept = self._checked(answer, request, passages)
        if not kept:
            log.info("no sentence of the model's answer was supported; extractive answer used")
            return None
        return Draft(sentences=self._sentences(kept, request))

    def yes_probability(self, request: ReadRequest, config: RunnableConfig | None, passages: list[int]) -> float:
        """P(yes) / (P(yes) + P(no)) of the first answer token, taking each word's best spelling."""
        reply = self.model.invoke(self.messages("judge", request, passages), config=config, max_tokens=1,
                                  logprobs=True, top_logprobs=10)
        probabilities = _first_token_probabilities(reply)
        if not probabilities:  # the model reports no probabilities: its word decides
            word = str(reply.content).strip().lower()
            return 1.0 if word.startswith(("yes", "はい")) else 0.0
        yes = max((p for t, p in probabilities.items() if t.lower() in ("yes", "はい")), default=0.0)
        no = max((p for t, p in probabilities.items() if t.lower() in ("no", "いいえ")), default=0.0)
        return yes / (yes + no) if yes + no else 0.0

    @staticmethod
    def unsupported_yes(request: ReadRequest, passages: list[int]) -> str:
        """Why "yes" would be unsupported ("" when it is not): a yes asserts the question, so some passage
        judged (or its twin) must hold every amount, number, date and name the question states."""
        reasons = [unsupported(Claim(request.query.text, (i,)), request.store, request.query.lang) for i in passages]
        return f"no passage judged holds the question's facts: {reasons[0]}" if reasons and all(reasons) else ""

    def _yes_no(self, request: ReadRequest, config: RunnableConfig | None) -> Written:
        """はい/いいえ or Yes/No first (judged by probability), then the evidence: the extractive sentences."""
        passages = self.passages(request, "yesno")
        if not passages:
            return None
        if evidence_lead(request.query, request.baseline, request.store):  # the chain opens with it
            log.info("yes/no: settled by the extractive evidence")
            return Draft(sentences=list(request.baseline.sentences))
        p_yes = self.yes_probability(request, config, passages)
        yes, no = YES_NO_WORDS[request.query.lang]
        reason = self.unsupported_yes(request, passages) if p_yes >= YES_THRESHOLD else ""
        word = yes if p_yes >= YES_THRESHOLD and not reason else no
        log.info("yes/no: P(yes)=%.2f -> %s%s", p_yes, word, f" ({reason})" if reason else "")
        evidence = request.baseline.sentences
        if not evidence:
            log.info("no evidence for the yes/no answer; extractive answer used")
            return None
        yield word + ("。" if request.query.lang == "ja" else ". ")
        first = Sentence(word, evidence[0].chunks, evidence[0].doc, attributed=True)
        return Draft(sentences=[first, *evidence])

    def _items(self, kind: str, request: ReadRequest, config: RunnableConfig | None,
               deadline: float) -> Written:
        """Totals, differences, comparisons, counts and lists: the model lists the items, code checks each
        against its passage and computes the rest."""
        passages = self.passages(request, kind)
        if not passages:
            return None
        text: list[str] = []
        yield from self._generate(self.messages("items", request, passages), config, deadline, text)
        answer = "".join(text)
        if NO_ANSWER in answer:
            return None
        kept = self._checked(answer, request, passages)
        kinds = ("usd", "pct") if kind in ("sum", "difference", "compare") else ("usd", "pct", "num")
        items = [Item(c.text, c.chunks[0], amount_of(Claim(c.text, c.chunks[:1]), request.store, kinds))
                 for c in kept]
        if kind in ("sum", "difference", "compare"):
            items = [i for i in items if i.amount]
        items = list({(i.chunk, i.amount or i.text): i for i in items}.values())  # one per passage and amount
        if not items:
            log.info("no listed item was supported; extractive answer used")
            return None
        sentences = [Sentence(i.text, (i.chunk,), request.store.chunks[i.chunk].doc, attributed=True) for i in items]
        if kind == "count" and len(items) < 2:
            log.info("a count of %d item is no answer; extractive answer used", len(items))
            return None
        if kind != "list":
            result = computed(kind, items, request.query.lang)
            if result is None:
                log.info("the items (%d) allow no %s; extractive answer used", len(items), kind)
                return None
            sentence, chunks = result
            yield sentence
            sentences.insert(0, Sentence(sentence, chunks, request.store.chunks[chunks[0]].doc, attributed=True))
        return Draft(sentences=sentences)
