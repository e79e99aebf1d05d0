"""Does the local model's yes/no probability improve the extractive answer-or-refuse decision? (issue §4)

    .venv/bin/python bench/local_judge.py [N]     # N answerable and N unanswerable questions of eval/data (20)

For each question: the extractive decision (answer or abstain) and the model's P(yes) for "do these
passages answer the question?" over the top three passages. Policies: answer when the extractive reader
answers and P(yes) >= low, or when it abstains and P(yes) >= high. Printed: both error rates
(answerable refused, unanswerable answered) of the extractive reader alone and of every policy that
lowers neither; the judge is kept only if some policy lowers both.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from local_reader import request_for
from qa.chain import build_chain
from qa.config import PROJECT_ROOT, Settings
from qa.readers.chat_model import _first_token_probabilities, _user
from qa.readers.local import LocalReader

ASK = "Do the passages answer the question? Answer with only Yes or No."


def questions(n: int) -> list[tuple[str, bool]]:
    data = PROJECT_ROOT / "eval" / "dev"
    rows = [json.loads(line) for f in ("facts.jsonl", "crosslingual.jsonl") for line in
            (data / f).read_text(encoding="utf-8").splitlines() if line.strip()]
    refused = [json.loads(line) for line in (data / "unanswerable.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    step = max(1, len(rows) // n)
    return [(r["question"], True) for r in rows[::step][:n]] + [(r["question"], False) for r in refused[:n]]


def p_answers(reader: LocalReader, request) -> float:
    passages = reader.passages(request, "fact")
    fenced = "\n".join(f'<passage n="{k}">\n{request.store.chunks[i].text}\n</passage>'
                       for k, i in enumerate(passages, 1))
    reply = reader.model.invoke([SystemMessage(ASK), HumanMessage(_user(fenced, "", request.query.text))],
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


def run(settings: Settings, n: int) -> dict:
    chain = build_chain(settings)
    reader = LocalReader(settings)
    rows = []
    for question, answerable in questions(n):
        request = request_for(chain, question)
        p = p_answers(reader, request)
        rows.append((answerable, request.baseline.abstained, p))
        print(f"{'A' if answerable else 'U'} extractive {'abstains' if request.baseline.abstained else 'answers '} "
              f"P(yes)={p:.2f}  {question}", flush=True)
    base = rates(rows, 0.0, 1.01)
    print(f"extractive alone: answerable refused {base[0]:.3f}, unanswerable answered {base[1]:.3f}")
    better = []
    for low in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
        for high in (0.5, 0.7, 0.9, 0.95, 1.01):
            r = rates(rows, low, high)
            if r[0] <= base[0] and r[1] <= base[1] and r != base:
                better.append((low, high, *r))
                print(f"low {low} high {high}: answerable refused {r[0]:.3f}, unanswerable answered {r[1]:.3f}")
    both = [b for b in better if b[2] < base[0] and b[3] < base[1]]
    print("a policy lowers both error rates" if both else "no policy lowers both error rates: the judge is not used")
    return {"extractive": base, "policies": better, "lowers_both": both, "rows": rows}


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(Path(__file__).parent))
    run(Settings(), int(sys.argv[1]) if len(sys.argv) > 1 else 20)
