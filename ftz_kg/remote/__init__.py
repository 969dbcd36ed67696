"""Remote SPARQL stores: a careful HTTP client and publishing the graph into a store."""
