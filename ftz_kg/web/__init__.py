"""The web: the Starlette app (SPARQL endpoint, canned-query API, linked-data pages from templates), query workers, reloading and the HTTP layer's limits."""
