"""One policy pack per authority (see gateway/rules/pack.py for the format)."""
