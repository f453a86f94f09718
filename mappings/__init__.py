"""External ⇄ canonical mappings and the data tables they read (codes, lifecycles, routes)."""
