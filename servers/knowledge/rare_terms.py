"""Which of a question's words full-text search ranks by: its rarer ones, from the word counts of migration 0011.

A word most passages share ("box", "order" in a shop's FAQ) says little about which passage answers, and ranking
every passage that holds one was most of a search's time at 10,000 passages. The question's words are taken rarest
first while the passages they hold add up to at most CANDIDATE_BUDGET; a question whose every word is that common
gets no full-text ranking (the vector ranking still answers it). Words that are rare by nature (an order number, a
batch code, a product's name) are always kept. A namespace smaller than the budget keeps every word, so a small
knowledge base ranks exactly as before.
"""

from __future__ import annotations

CANDIDATE_BUDGET = 1000


def rarer_lexemes(config: str) -> str:
    """A subquery of the rarer lexemes (column `lexeme`) of %(q)s parsed with the text search `config` (SQL), in
    the namespaces %(ns)s (a list), up to %(budget)s passages."""
    return (
        "SELECT lexeme FROM ("
        " SELECT lexeme, sum(passages) OVER (ORDER BY passages, lexeme) AS running FROM ("
        "  SELECT w.lexeme, coalesce((SELECT sum(k.passages) FROM knowledge_lexemes k"
        "                             WHERE k.namespace = ANY(%(ns)s) AND k.lexeme = w.lexeme), 0) AS passages"
        f"  FROM unnest(tsvector_to_array(to_tsvector({config}, %(q)s))) AS w (lexeme)) AS counted"
        ") AS ranked WHERE running <= %(budget)s"
    )
