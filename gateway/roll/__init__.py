"""Schools' admission-register returns and the enquiries into children missing education."""
