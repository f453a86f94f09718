"""Mosaic, the authority's children's social care record, reached over SOAP
(contracts/mosaic/casenote.wsdl): a zeep client and the outbox destination built on it."""
