"""The query layer: the embedded SPARQL store (in memory or on disk), the canned-query catalogue, parameter binding, the query guard and result writers."""
