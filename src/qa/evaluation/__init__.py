"""The evaluation suite behind ``qa eval``: deterministic metrics on the dev, test and calibration splits.

- ``data``: splits, categories, gold blocks and gold clauses;
- ``matching``: whole-word key facts, answer sentences, citation support, yes/no and premises;
- ``scoring``: one item's answer and retrieval scores;
- ``metrics``: aggregation, paraphrase families, floors;
- ``report``: the side-by-side table and the reports;
- ``run``: the command (``main``) and its options (``add_arguments``).
"""

from qa.evaluation.data import CATEGORIES, EVAL_DIR, SPLITS, GoldClause, gold_blocks, gold_clauses, load_items
from qa.evaluation.matching import answer_sentences, asserts, fact_in, polarity, supports
from qa.evaluation.metrics import check_floors, families, floors_for, summarise
from qa.evaluation.report import format_table, write_reports
from qa.evaluation.run import add_arguments, load_floors, main, run, run_split
from qa.evaluation.scoring import Cited, Result, score_answer

__all__ = [
    "CATEGORIES", "EVAL_DIR", "SPLITS", "Cited", "GoldClause", "Result", "add_arguments", "answer_sentences",
    "asserts", "check_floors", "fact_in", "families", "floors_for", "format_table", "gold_blocks", "gold_clauses",
    "load_floors", "load_items", "main", "polarity", "run", "run_split", "score_answer", "summarise", "supports",
    "write_reports",
]
