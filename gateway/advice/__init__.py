"""EHC needs-assessment advice: asking each adviser, holding what the family has not agreed to
share, and following each request to its answer (gateway/model/advice.py)."""
