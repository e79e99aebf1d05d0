"""Does the local model's yes/no probability improve the extractive answer-or-refuse decision? (issue §4)

    .venv/bin/python bench/local_judge.py [N]     # N answerable and N unanswerable questions per set (20)

For each question: the extractive decision (answer or abstain) and the model's P(yes) for "do these
passages answer the question?" over the top three passages. A policy answers when the extractive reader
answers and P(yes) >= low, or when it abstains and P(yes) >= high. The policy is chosen on
``eval/calibration/`` (the lowest sum of both error rates among those raising neither), then applied
unchanged to dev: the judge is kept only if it lowers both error rates there (answerable refused,
unanswerable answered). Writes ``bench/out/local_judge.json``.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from qa.chain import build_chain
from qa.config import PROJECT_ROOT, Settings
from qa.readers.chat_model import _first_token_probabilities
from qa.readers.local import LocalReader
from qa.readers.prompts import user_turn

EVAL = PROJECT_ROOT / "eval"
OUT = PROJECT_ROOT / "bench" / "out"

ASK = "Do the passages answer the question? Answer with only Yes or No."


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _spread(rows: list[dict], n: int) -> list[dict]:
    """``n`` rows spread evenly over ``rows`` (both languages, every section)."""
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def questions(split: str, n: int) -> list[tuple[str, bool]]:
    """``n`` answerable and ``n`` unanswerable questions of ``split`` ("dev" or "calibration")."""
    if split == "calibration":
        rows = _jsonl(EVAL / "calibration" / "questions.jsonl")
        answerable = [r for r in rows if r["answerable"]]
        refused = [r for r in rows if not r["answerable"]]
    else:
        answerable = [r for f in ("facts", "crosslingual") for r in _jsonl(EVAL / split / f"{f}.jsonl")]
        refused = _jsonl(EVAL / split / "unanswerable.jsonl")
    return [(r["question"], True) for r in _spread(answerable, n)] + [(r["question"], False) for r in _spread(refused, n)]


def p_answers(reader: LocalReader, request) -> float:
    passages = reader.passages(request, "fact")
    fenced = "\n".join(f'<passage n="{k}">\n{request.store.chunks[i].text}\n</passage>'
                       for k, i in enumerate(passages, 1))
    reply = reader.model.invoke([SystemMessage(ASK), HumanMessage(user_turn(fenced, "", request.query.text))],
                                max_tokens=1, logprobs=True, top_logprobs=10)
    found = _first_token_probabilities(reply)
    yes = max((p for t, p in found.items() if t.lower() == "yes"), default=0.0)
    no = max((p for t, p in found.items() if t.lower() == "no"), default=0.0)
    return yes / (yes + no) if yes + no else 0.0


def rates(rows: list[tuple[bool, bool, float]], low: float, high: float) -> tuple[float, float]:
    answered = [(ok, (not abstained and p >= low) or (abstained and p >= high)) for ok, abstained, p in rows]
    answerable = [a for ok, a in answered if ok]
    unanswerable = [a for ok, a in answered if not ok]
    return (sum(not a for a in answerable) / max(1, len(answerable)),
            sum(a for a in unanswerable) / max(1, len(unanswerable)))


Row = tuple[bool, bool, float]  # answerable, extractive abstained, P(yes)
POLICIES = [(low, high) for low in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5) for high in (0.5, 0.7, 0.9, 0.95, 1.01)]
EXTRACTIVE = (0.0, 1.01)  # the extractive decision alone


def score(chain: Any, reader: LocalReader, split: str, n: int) -> list[Row]:
    rows = []
    for question, answerable in questions(split, n):
        request = chain.read_request(question)
        p = p_answers(reader, request)
        rows.append((answerable, request.baseline.abstained, p))
        print(f"{split} {'A' if answerable else 'U'} extractive {'abstains' if request.baseline.abstained else 'answers '}"
              f" P(yes)={p:.2f}  {question}", flush=True)
    return rows


def choose(rows: list[Row]) -> tuple[float, float]:
    """The policy with the lowest sum of error rates among those raising neither rate (extractive alone if none)."""
    base = rates(rows, *EXTRACTIVE)
    allowed = [p for p in POLICIES if all(r <= b for r, b in zip(rates(rows, *p), base))]
    return min(allowed, key=lambda p: (sum(rates(rows, *p)), p != EXTRACTIVE), default=EXTRACTIVE)


def run(settings: Settings, n: int) -> dict:
    chain = build_chain(settings)
    reader = LocalReader(settings)
    calibration = score(chain, reader, "calibration", n)
    policy = choose(calibration)
    dev = score(chain, reader, "dev", n)
    out = {"n": n, "policy": {"low": policy[0], "high": policy[1]}}
    for name, rows in (("calibration", calibration), ("dev", dev)):
        base, judged = rates(rows, *EXTRACTIVE), rates(rows, *policy)
        out[name] = {"extractive": base, "judged": judged, "rows": rows}
        print(f"{name}: extractive alone: answerable refused {base[0]:.3f}, unanswerable answered {base[1]:.3f}; "
              f"judged (low {policy[0]}, high {policy[1]}): {judged[0]:.3f}, {judged[1]:.3f}")
    base, judged = out["dev"]["extractive"], out["dev"]["judged"]
    out["lowers_both_on_dev"] = judged[0] < base[0] and judged[1] < base[1]
    print("the judge lowers both error rates on dev" if out["lowers_both_on_dev"]
          else "the judge does not lower both error rates on dev: it is not used")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "local_judge.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    return out


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    run(Settings(), int(sys.argv[1]) if len(sys.argv) > 1 else 20)
