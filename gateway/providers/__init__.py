"""Provider registers and commissioning: GIAS establishments, the authority's approved AP list,
UKRLP look-ups, placements and providers' attendance returns (gateway/model/provider.py)."""
